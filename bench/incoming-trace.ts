/**
 * Where an unmatched request's time goes in the agent (filtered steal, HTTP/1): run the incoming
 * benchmark with `--trace DIR` (or any session with PODLINK_TRACE=DIR), then
 *
 *   node dist/bench/incoming-trace.js DIR
 *
 * reads the agent's `h1` events (agent/incoming/http1.ts: req-in, req-out, ans-in, ans-out per
 * client connection) and prints, per request, the median and p99 of
 *
 *   request   the client's read → the request written to its way (framing, filters, routing)
 *   app       that write → the app's answer read (the app, and loopback both ways)
 *   answer    the answer's read → written to the client (framing, ordering)
 *   client    that write → the client's next request read (the network both ways, the client)
 *
 * and the agent's CPU time per request over the whole run (start-up included).
 */
import fs from 'node:fs';
import path from 'node:path';
import { percentile } from './stats.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: incoming-trace.js DIR');
  process.exit(2);
}

const spans: Record<'request' | 'app' | 'answer' | 'client', number[]> = { request: [], app: [], answer: [], client: [] };
let requests = 0;
let cpuUs = 0;
for (const f of fs.readdirSync(dir).filter((n) => n.startsWith('agent-') && n.endsWith('.trace'))) {
  const last = new Map<number, { event: string; t: bigint }>();
  for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
    const [t, , hop, event, conn, a, b] = line.split(' ');
    if (event === 'cpu') cpuUs += Number(a) + Number(b);
    if (hop !== 'h1' || !t) continue;
    const now = BigInt(t);
    const id = Number(conn);
    const prev = last.get(id);
    const us = prev ? Number(now - prev.t) / 1000 : 0;
    if (event === 'req-in') requests++;
    if (prev && event === 'req-out' && prev.event === 'req-in') spans.request.push(us);
    if (prev && event === 'ans-in' && prev.event === 'req-out') spans.app.push(us);
    if (prev && event === 'ans-out' && prev.event === 'ans-in') spans.answer.push(us);
    if (prev && event === 'req-in' && prev.event === 'ans-out') spans.client.push(us);
    last.set(id, { event, t: now });
  }
}
console.log(`agent, HTTP/1 filtered steal: ${requests} client reads`);
for (const [name, v] of Object.entries(spans)) {
  if (v.length) console.log(`  ${name.padEnd(8)} median ${percentile(v, 50).toFixed(1).padStart(7)} µs   p99 ${percentile(v, 99).toFixed(1).padStart(8)} µs   (${v.length})`);
}
if (requests) console.log(`  agent CPU per request (whole run, start-up included): ${(cpuUs / requests).toFixed(1)} µs`);
