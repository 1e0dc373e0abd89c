/**
 * The floor of a filtered steal's unmatched path (bench/incoming.ts (a)): the smallest Node relay
 * that sits where the agent's dispatcher sits — in the target's network namespace, the pod's port
 * redirected to it — and passes each connection on to the original app over loopback.
 *
 *   raw      parses nothing: bytes read are written to the other side (one write per read)
 *   llhttp   the same, but every byte also goes through the dispatcher's own framer
 *            (agent/incoming/h1-framing.ts) in both directions, so it knows where each request and
 *            answer begins and ends and reads each request's head — what a filter needs, no more
 *
 *   node dist/bench/incoming-floor.js raw|llhttp LISTEN_PORT HOST:PORT   (prints {"ready":true})
 *
 * Both read with the socket's default 64 KiB reads and set no Nagle, as the dispatcher does.
 */
import net from 'node:net';
import { Framer, type Piece } from '../agent/incoming/h1-framing.js';

const [mode, listenText, dest] = process.argv.slice(2);
if ((mode !== 'raw' && mode !== 'llhttp') || !listenText || !dest) {
  process.stderr.write('usage: incoming-floor.js raw|llhttp LISTEN_PORT HOST:PORT\n');
  process.exit(2);
}
const [host, portText] = dest.split(':') as [string, string];

/** Bytes `from` reads go to `to` (after `look` saw them: framing comes before routing); pauses for the slower side. */
function oneWay(from: net.Socket, to: net.Socket, look: ((d: Buffer) => void) | undefined): void {
  from.on('data', (d: Buffer) => {
    look?.(d);
    if (!to.write(d)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.on('end', () => to.end());
  from.on('error', () => to.destroy());
  from.on('close', () => to.destroy());
}

const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (client) => {
  const app = net.connect({ host, port: Number(portText), noDelay: true, allowHalfOpen: true });
  if (mode === 'raw') {
    oneWay(client, app, undefined);
    oneWay(app, client, undefined);
    return;
  }
  // The heads' methods, so the answer framer knows a HEAD's answer has no body (kept for the
  // connection's life: a benchmark's connection is short).
  const asked: string[] = [];
  const requests = new Framer('request');
  const answers = new Framer('response', (n) => asked[n]);
  const pieces: Piece[] = [];
  oneWay(client, app, (d) => {
    pieces.length = 0;
    requests.push(d, pieces);
    for (const p of pieces) if (p.kind === 'head') asked.push(p.head.method);
  });
  oneWay(app, client, (d) => {
    pieces.length = 0;
    answers.push(d, pieces);
  });
});
server.listen(Number(listenText), '0.0.0.0', () => process.stdout.write(`${JSON.stringify({ ready: true, mode })}\n`));
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
