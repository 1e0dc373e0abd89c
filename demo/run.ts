/**
 * The demo: builds a "pod" out of network namespaces (pod A with its own DNS, a secret env var and a
 * file only it can see; pod B serving `service-b`; a "laptop" with loopback only), then runs the same
 * small program twice from the laptop — plain, and under `podlink exec -t pid/<pod A>` — and prints
 * what it saw each time. Needs root. `npm run demo` (or `sudo bash scripts/setup.sh demo`).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../common/paths.js';
import { createWorld } from '../test/helpers/world.js';

const app = path.join(packageRoot, 'demo', 'app.mjs');
const cli = path.join(packageRoot, 'bin', 'podlink.js');

function run(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function main(): Promise<void> {
  process.stdout.write('Building the demo world (network namespaces: pod A, pod B, cluster DNS, laptop)… ');
  const world = await createWorld();
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-demo-'));
  console.log('done.');
  try {
    const args = [app, world.serviceB.short, world.serviceB.fqdn, world.secretEnv.name, world.targetFile.path, world.podA.ip, String(world.podA.udpPort)];
    console.log(`\n$ node demo/app.mjs …            (on the laptop, no podlink)`);
    await run(world.spawnIn(world.laptop, process.execPath, args, { cwd, stdio: 'inherit' }));
    console.log(`\n$ podlink exec -t pid/${world.podA.pid} -- node demo/app.mjs …     (pid ${world.podA.pid} = pod A's server)`);
    const code = await run(world.spawnIn(world.laptop, process.execPath, [cli, 'exec', '-t', `pid/${world.podA.pid}`, '--', process.execPath, ...args], { cwd, stdio: 'inherit' }));
    console.log(`\nThe write went to ${path.join(cwd, 'demo-output.txt')} on this machine: ${fs.existsSync(path.join(cwd, 'demo-output.txt')) ? 'yes' : 'no'}.`);
    if (code !== 0) throw new Error(`podlink exec exited with ${code}`);
  } finally {
    await world.destroy();
    fs.rmSync(cwd, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`demo: ${e.message}`);
  process.exit(1);
});
