// One HTTP upload of MIB mebibytes to URL, written as fast as the connection takes it; prints one JSON
// line {mibps, received} (received: what the server says it counted).
//   node upload-client.mjs URL MIB [HEADER-NAME HEADER-VALUE]
import http from 'node:http';

const [url, mibText, headerName, headerValue] = process.argv.slice(2);
const total = Number(mibText) * 1024 * 1024;
const chunk = Buffer.alloc(1024 * 1024, 'podlink-upload-');
const t0 = process.hrtime.bigint();
const req = http.request(url, { method: 'POST', headers: { 'content-length': total, ...(headerName ? { [headerName]: headerValue } : {}) } }, (res) => {
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => {
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    process.stdout.write(JSON.stringify({ mibps: total / 1024 / 1024 / s, received: Number(body.trim().split('\n').pop()) }) + '\n');
  });
});
req.setNoDelay(true);
let left = total;
const pump = () => {
  while (left > 0) {
    const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
    left -= part.length;
    if (!req.write(part)) return void req.once('drain', pump);
  }
  req.end();
};
pump();
