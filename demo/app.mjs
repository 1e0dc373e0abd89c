// The demo's "service": what a developer's local program sees of its surroundings. It prints one line
// per question; run it plain and under `podlink exec` to compare.
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import fs from 'node:fs';

const [short, fqdn, secretName, file, udpHost, udpPort] = process.argv.slice(2);

async function ask(label, fn) {
  let answer;
  try {
    answer = await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 3000))]);
  } catch (e) {
    answer = `✗ ${e.code ?? e.cause?.code ?? e.message}`;
  }
  console.log(`  ${label.padEnd(46)} ${String(answer).trim().replace(/\n/g, ' ⏎ ')}`);
}

await ask(`DNS ${short}`, async () => (await dns.lookup(short)).address);
await ask(`DNS ${fqdn}`, async () => (await dns.lookup(fqdn)).address);
await ask(`HTTP GET http://${short}/hello`, async () => (await fetch(`http://${short}/hello`)).text());
await ask(`UDP echo ${udpHost}:${udpPort}`, () =>
  new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('error', reject);
    s.on('message', (m) => (s.close(), resolve(m.toString())));
    s.send('ping', Number(udpPort), udpHost);
  }),
);
await ask(`env ${secretName}`, async () => process.env[secretName] ?? '✗ not set');
await ask(`read ${file}`, async () => fs.readFileSync(file, 'utf8'));
await ask('write ./demo-output.txt (stays local)', async () => {
  fs.writeFileSync('demo-output.txt', 'written by the demo\n');
  return `ok, ${fs.statSync('demo-output.txt').size} bytes on this machine`;
});
// A question that timed out may leave a socket open: the answers are printed, so end here.
process.exit(0);
