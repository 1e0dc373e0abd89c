/**
 * Holds many TCP connections open, for the memory benchmark (many.ts). Steered over stdin/stdout:
 *
 *   prints {"ready":true}      then waits for a line on stdin
 *   opens COUNT connections to HOST:PORT (an echo server), 32 at a time, echoes 1 KiB on each
 *   prints {"open":COUNT,"ms":…} then waits for a line, closes them all and exits
 *
 *   node dist/bench/many-client.js HOST PORT COUNT
 */
import net from 'node:net';
import readline from 'node:readline';

const [host, portText, countText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const payload = Buffer.alloc(1024, 0x5a);
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function echoOnce(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true });
    let got = 0;
    s.once('error', reject);
    s.once('connect', () => s.write(payload));
    s.on('data', (d) => {
      got += d.length;
      if (got === payload.length) resolve(s);
    });
  });
}

process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
await lines.next();
const t0 = Date.now();
const sockets: net.Socket[] = [];
for (let i = 0; i < count; i += 32) {
  sockets.push(...(await Promise.all(Array.from({ length: Math.min(32, count - i) }, echoOnce))));
}
process.stdout.write(`${JSON.stringify({ open: sockets.length, ms: Date.now() - t0 })}\n`);
await lines.next();
for (const s of sockets) s.destroy();
process.exit(0);
