// The seed demo's service: one small HTTP server deployed three times (service-a → service-b →
// service-c). Each answers with what podlink must be able to reproduce on a laptop — its env
// (from a Secret and a ConfigMap), a file from a ConfigMap volume, and the answer of the next
// service, called by its cluster DNS name. Plain JavaScript so the image needs only node.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';

const port = Number(process.env.PORT ?? 8080);
const service = process.env.SERVICE_NAME ?? 'unnamed';
const next = process.env.NEXT_URL ?? ''; // empty for the last service of the chain
const configFile = process.env.CONFIG_FILE ?? '/app/config/settings.json';

function readConfig() {
  try {
    return readFileSync(configFile, 'utf8');
  } catch (err) {
    return `unreadable: ${err.code}`;
  }
}

// The secret itself never goes into a response; its hash proves which value the pod saw.
const fingerprint = (value) => (value ? createHash('sha256').update(value).digest('hex').slice(0, 16) : null);

function identity() {
  return { service, pod: os.hostname(), greeting: process.env.GREETING ?? null, tokenSha256: fingerprint(process.env.API_TOKEN) };
}

function callNext(path) {
  return new Promise((resolve) => {
    const req = http.get(new URL(path, next), { timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        try {
          resolve({ ok: res.statusCode === 200, status: res.statusCode, body: JSON.parse(body) });
        } catch {
          resolve({ ok: false, status: res.statusCode, body });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timed out calling ${next}`)));
    req.on('error', (err) => resolve({ ok: false, error: `${err.code ?? ''} ${err.message}`.trim() }));
  });
}

function send(res, status, body) {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

// Bulk downloads for the benchmarks: `mb` MiB of a fixed pattern, written as the socket drains.
const chunk = Buffer.alloc(256 * 1024, 'podlink-bulk-');
function sendBlob(res, mb) {
  const total = Math.max(0, Math.min(4096, mb)) * 1024 * 1024;
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
  let left = total;
  const pump = () => {
    while (left > 0) {
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= part.length;
      if (!res.write(part)) return res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/healthz') return send(res, 200, { ok: true });
  if (url.pathname === '/whoami') return send(res, 200, identity());
  if (url.pathname === '/config') return send(res, 200, { ...identity(), config: readConfig() });
  if (url.pathname === '/blob') return sendBlob(res, Number(url.searchParams.get('mb') ?? 1));
  if (url.pathname === '/') {
    const body = { ...identity(), config: readConfig() };
    if (!next) return send(res, 200, body);
    const answer = await callNext('/');
    return send(res, answer.ok ? 200 : 502, { ...body, next: answer.ok ? answer.body : answer });
  }
  send(res, 404, { error: `no route ${url.pathname}` });
});

// Kubernetes stops pods with SIGTERM; as PID 1 node would otherwise ignore it until SIGKILL.
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
server.listen(port, () => console.log(`${service} listening on :${port}${next ? `, next: ${next}` : ''}`));
