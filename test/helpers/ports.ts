/** Loopback ports for tests. */
import net from 'node:net';

/**
 * A loopback port free right now (a client binds it, as the layer binds the user's socket; or a server).
 * `belowEphemeral`: one under the kernel's ephemeral range (from 32768), which no other socket is given
 * meanwhile — for a port a test binds a moment later.
 */
export async function freePort(opts: { belowEphemeral?: boolean } = {}): Promise<number> {
  for (;;) {
    const want = opts.belowEphemeral ? 20_000 + Math.floor(Math.random() * 10_000) : 0;
    const s = net.createServer();
    const ok = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.listen(want, '127.0.0.1', () => r(true));
    });
    if (!ok) continue;
    const port = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    return port;
  }
}
