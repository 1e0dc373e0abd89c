// One POST of MIB MiB that the server echoes back; prints {"mibPerSec": …} counting both directions.
//   node http-bulk.mjs URL MIB
import http from 'node:http';

const [url, mibText] = process.argv.slice(2);
const body = Buffer.alloc(Number(mibText) << 20, 'x');
const t0 = process.hrtime.bigint();
const received = await new Promise((resolve, reject) => {
  const req = http.request(url, { method: 'POST', headers: { 'content-length': body.length } }, (res) => {
    let n = 0;
    res.on('data', (d) => (n += d.length));
    res.on('end', () => resolve(n));
  });
  req.on('error', reject);
  req.end(body);
});
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(JSON.stringify({ mibPerSec: (body.length + received) / 2 ** 20 / secs }) + '\n');
