/**
 * Speaks the layer link from TypeScript, as libpodlink.so does from C: for tests of the intproxy and
 * agent that need no hooked process.
 */
import net from 'node:net';
import { Link } from '../../link/link.js';
import { helloFrom } from '../../link/hello.js';
import { encode } from '../../protocol/codec.js';
import { Role } from '../../protocol/spec.js';
import type { Unsent } from '../../protocol/types.js';

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

/**
 * Sends Hello and `req` on a connection of their own, as one write, and never reads from it: the layer's
 * own link for one non-blocking connect (layer/src/pending.c). Resolves once they are written;
 * `hangUp` then closes it as the layer cancels a connect the app gave up on: a full close, with
 * whatever the intproxy answered meanwhile unread. (A Link's shutdown only half-closes and keeps
 * reading: a layer that may well have its answer.)
 */
export async function requestUnread(socketPath: string, name: string, req: Unsent): Promise<{ hangUp: () => Promise<void> }> {
  const socket = net.connect(socketPath);
  socket.pause(); // a socket paused before it connects does not start reading
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const frames = Buffer.concat([encode({ type: 'Hello', id: 1, ...helloFrom(Role.layer, name) }), encode({ ...req, id: 2 } as never)]);
  await new Promise<void>((resolve) => socket.write(frames, () => resolve()));
  return {
    hangUp: () => {
      socket.destroy();
      return new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
    },
  };
}
