// Command line for the ring-2 test world (demo script, manual debugging):
//   node dist/test/helpers/world-cli.js up [--name pl-N]   print the World as JSON (one line), keep it
//                                                          up until SIGINT/SIGTERM, then destroy it
//   node dist/test/helpers/world-cli.js down --name pl-N   remove leftovers of world pl-N (its processes,
//                                                          netns, /etc/netns dir, temp dir)
//   node dist/test/helpers/world-cli.js list               worlds that have a netns or a temp dir here
// Exit codes: 0 ok, 1 failure, 2 usage.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createWorld } from './world.js';
import { NETNS_SUFFIXES, alive, loadState, netnsList, teardownByName } from './world-sys.js';

function usage(msg?: string): never {
  if (msg) console.error(`world-cli: ${msg}`);
  console.error('usage: world-cli up [--name pl-NAME] | down --name pl-NAME | list');
  process.exit(2);
}

function parse(argv: string[]): { cmd: string; name?: string } {
  const [cmd, ...rest] = argv;
  if (!cmd) usage();
  let name: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--name') name = rest[++i] ?? usage('--name needs a value');
    else if (a.startsWith('--name=')) name = a.slice('--name='.length);
    else usage(`unknown argument '${a}'`);
  }
  return { cmd, name };
}

async function up(name?: string): Promise<void> {
  const world = await createWorld(name ? { name } : {});
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    try {
      await world.destroy();
      console.error(`world-cli: ${sig}: world ${world.name} destroyed`);
      process.exit(0);
    } catch (e) {
      console.error(`world-cli: destroying ${world.name}: ${(e as Error).message}`);
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
  // Functions drop out of JSON: what remains is the data half of the World.
  process.stdout.write(`${JSON.stringify(world)}\n`);
  // Keep the event loop alive: the world's own children are unref'd on purpose.
  setInterval(() => {}, 1 << 30);
}

async function down(name?: string): Promise<void> {
  if (!name) usage('down needs --name pl-NAME');
  const s = loadState(name);
  if (s && s.ownerPid !== process.pid && alive(s.ownerPid)) {
    console.error(`world-cli: note: world ${name} was created by pid ${s.ownerPid}, which is still running`);
  }
  const done = await teardownByName(name);
  console.log(done.length ? done.join('\n') : `nothing left of world ${name}`);
}

async function list(): Promise<void> {
  const names = new Set<string>();
  const suffix = new RegExp(`-(${NETNS_SUFFIXES.join('|')})$`);
  for (const ns of await netnsList()) if (ns.startsWith('pl-') && suffix.test(ns)) names.add(ns.replace(suffix, ''));
  for (const d of readdirSync(tmpdir())) if (d.startsWith('podlink-world-pl-')) names.add(d.slice('podlink-world-'.length));
  for (const n of [...names].sort()) {
    const s = loadState(n);
    const owner = s ? `owner pid ${s.ownerPid} (${alive(s.ownerPid) ? 'running' : 'gone'})` : 'no state file';
    console.log(`${n}\t${owner}`);
  }
}

const { cmd, name } = parse(process.argv.slice(2));
const commands: Record<string, (name?: string) => Promise<void>> = { up, down, list };
const run = commands[cmd];
if (!run) usage(`unknown command '${cmd}'`);
run(name).catch((e: Error) => {
  console.error(`world-cli: ${e.message}`);
  process.exit(1);
});
