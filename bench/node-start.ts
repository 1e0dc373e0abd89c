/**
 * A file-heavy start-up under the layer: a node app that requires 2,000 modules (2,000 packages
 * m0…m1999 in node_modules, each requiring the next in chains of 50, main.js requiring the 40 chain
 * heads: about 36,000 statx/openat/read calls, all local). The app lives in a project directory
 * under the user's home and runs from it, as `npm start` would; it prints performance.now() when done
 * (milliseconds since node started). Arms, interleaved, the first round discarded:
 *
 *   plain    node main.js on the laptop
 *   podlink  podlink exec -t pid/<pod A> -- node main.js (the layer preloaded, fs mode read)
 *
 *   node dist/bench/node-start.js [--rounds 10]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createWorld } from '../test/helpers/world.js';
import { packageRoot } from '../common/paths.js';
import { loadAverage } from './arms.js';
import { median, ratioSummary } from './stats.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg('rounds', 10);
const MODULES = 2000;
const CHAIN = 50;

/** Writes the app once; returns its directory. */
function makeApp(): string {
  const dir = path.join(os.homedir(), '.cache', 'podlink-bench', 'node-start');
  const marker = path.join(dir, 'main.js');
  if (fs.existsSync(marker)) return dir;
  for (let i = 0; i < MODULES; i++) {
    const pkg = path.join(dir, 'node_modules', `m${i}`);
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: `m${i}`, version: '1.0.0', main: 'index.js' }));
    const next = (i + 1) % CHAIN === 0 ? '' : `require('m${i + 1}');\n`;
    fs.writeFileSync(path.join(pkg, 'index.js'), `${next}module.exports = ${i};\n`);
  }
  const heads = Array.from({ length: MODULES / CHAIN }, (_, k) => `require('m${k * CHAIN}');`).join('\n');
  fs.writeFileSync(marker, `${heads}\nconsole.log(performance.now().toFixed(1));\n`);
  return dir;
}

async function main(): Promise<void> {
  const app = makeApp();
  const world = await createWorld();
  try {
    console.log(`node start-up with 2,000 local modules (${app}); load average ${loadAverage()}`);
    const cli = path.join(packageRoot, 'bin', 'podlink.js');
    const arms = {
      plain: [process.execPath, 'main.js'],
      podlink: [process.execPath, cli, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', process.execPath, 'main.js'],
    };
    const ms = { plain: [] as number[], podlink: [] as number[] };
    const ratios: number[] = [];
    for (let round = 0; round <= rounds; round++) {
      const one = async (argv: string[]): Promise<number> => {
        const r = await world.runIn(world.laptop, argv[0]!, argv.slice(1), { cwd: app, timeoutMs: 120_000 });
        if (r.code !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
        return Number(r.stdout.trim().split('\n').pop());
      };
      const p = await one(arms.plain);
      const l = await one(arms.podlink);
      if (round === 0) continue;
      ms.plain.push(p);
      ms.podlink.push(l);
      ratios.push(l / p);
    }
    console.log(`  node alone                median ${median(ms.plain).toFixed(0)} ms`);
    console.log(`  node under the layer      median ${median(ms.podlink).toFixed(0)} ms (time inside node, the session's own start-up not counted)`);
    console.log(`  ratio with/without: ${ratioSummary(ratios)} (target ≤ 1.05×)`);
  } finally {
    await world.destroy();
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
