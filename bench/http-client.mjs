// Sequential HTTP GETs against one URL; prints one JSON line of per-request latencies (µs).
//   node http-client.mjs URL COUNT keepalive|close
import http from 'node:http';

const [url, countText, mode] = process.argv.slice(2);
const count = Number(countText);
const agent = new http.Agent({ keepAlive: mode === 'keepalive', maxSockets: 1 });

function get() {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent, headers: mode === 'close' ? { connection: 'close' } : {} }, (res) => {
      res.on('data', () => undefined);
      res.on('end', resolve);
    });
    req.setNoDelay(true);
    req.on('error', reject);
  });
}

const samples = [];
for (let i = 0; i < count; i++) {
  const t0 = process.hrtime.bigint();
  await get();
  samples.push(Number(process.hrtime.bigint() - t0) / 1000);
}
agent.destroy();
process.stdout.write(JSON.stringify(samples) + '\n');
