// The cluster demo's "service": what a developer's local program sees of the pod it pretends to run
// in. One line per question; run it plain and under `podlink exec -t deployment/service-a`.
import dns from 'node:dns/promises';
import fs from 'node:fs';

async function ask(label, fn) {
  let answer;
  try {
    answer = await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 5000))]);
  } catch (e) {
    answer = `✗ ${e.code ?? e.cause?.code ?? e.message}`;
  }
  console.log(`  ${label.padEnd(44)} ${String(answer).trim().replace(/\n/g, ' ⏎ ')}`);
}

await ask('env API_TOKEN (from Secret demo-secret)', async () => process.env.API_TOKEN ?? '✗ not set');
await ask('env GREETING (from ConfigMap demo-config)', async () => process.env.GREETING ?? '✗ not set');
await ask('read /app/config/settings.json (ConfigMap)', async () => fs.readFileSync('/app/config/settings.json', 'utf8'));
await ask('DNS service-b', async () => (await dns.lookup('service-b')).address);
await ask('HTTP GET http://service-b:8080/', async () => {
  const body = await (await fetch('http://service-b:8080/')).json();
  return `${body.service} (pod ${body.pod}), which asked ${body.next?.service ?? '?'}`;
});
process.exit(0);
