// Sequential HTTP GETs against one URL; prints one JSON line of per-request latencies (µs).
//   node http-client.mjs URL COUNT keepalive|close [WARMUP]
// The first WARMUP requests are made but not reported: every process on the path (this client, and
// under podlink the intproxy and the agent, started for this run) gets past its JIT warm-up first.
import http from 'node:http';

const [url, countText, mode, warmupText] = process.argv.slice(2);
const count = Number(countText);
const warmup = Number(warmupText ?? 0);
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
for (let i = 0; i < warmup + count; i++) {
  const t0 = process.hrtime.bigint();
  await get();
  if (i >= warmup) samples.push(Number(process.hrtime.bigint() - t0) / 1000);
}
agent.destroy();
process.stdout.write(JSON.stringify(samples) + '\n');
