/** Loopback ports for tests. */
import net from 'node:net';

/** A loopback port free right now (a client binds it, as the layer binds the user's socket; or a server). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
