/**
 * The far end of every benchmark, run in pod B's network namespace:
 *
 *   HTTP  GET /bench        "ok\n" (latency, request rates)
 *         GET /blob?mb=N    N MiB of the repeated block of blob.ts, with Content-Length (bulk)
 *   TCP   echo              every byte back (many connections held open)
 *
 *   node dist/bench/servers.js HTTP_PORT ECHO_PORT
 * Prints {"ready":true} once both listen.
 */
import http from 'node:http';
import net from 'node:net';
import { BLOCK, blobBlock } from './blob.js';

const [httpPort, echoPort] = process.argv.slice(2).map(Number);
const block = blobBlock();

function sendBlob(res: http.ServerResponse, bytes: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes) });
  let left = bytes;
  const more = (): void => {
    while (left > 0) {
      const n = Math.min(left, BLOCK);
      left -= n;
      if (!res.write(n === BLOCK ? block : block.subarray(0, n))) {
        res.once('drain', more);
        return;
      }
    }
    res.end();
  };
  more();
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  req.resume();
  if (url.pathname === '/blob') return sendBlob(res, Math.round(Number(url.searchParams.get('mb') ?? 1) * BLOCK));
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' });
  res.end('ok\n');
});
server.keepAliveTimeout = 60_000;

const echo = net.createServer({ noDelay: true }, (s) => {
  s.on('error', () => undefined);
  s.pipe(s);
});

let up = 0;
const ready = (): void => {
  if (++up === 2) process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
};
server.listen(httpPort, '0.0.0.0', ready);
echo.listen(echoPort, '0.0.0.0', ready);
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
