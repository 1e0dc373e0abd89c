/**
 * Speaks the layer link from TypeScript, as libpodlink.so does from C: for tests of the intproxy and
 * agent that need no hooked process.
 */
import net from 'node:net';
import { Link } from '../../link/link.js';
import { helloFrom } from '../../link/hello.js';
import { Role } from '../../protocol/spec.js';

/** `pid`: the process the Hello names (default this one). */
export async function connectLayer(socketPath: string, name = 'test-layer', pid?: number): Promise<Link> {
  const socket = net.connect(socketPath);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const link = new Link(socket, socket);
  await link.request('Hello', { ...helloFrom(Role.layer, name), ...(pid ? { pid } : {}) });
  return link;
}
