// The ring-2 test world is what it claims to be (test/helpers/world.ts). Every assertion looks
// at content — addresses, file bytes, answers — not just exit codes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { requireRoot } from '../helpers/requirements.js';
import { createWorld, type World } from '../helpers/world.js';
import {
  LOOPBACK_CLIENT, UDP_CLIENT, alive, eventually, exec, inTarget, livingChildren, netnsList, netnsPids,
  nodeScript, pidsMentioning, rootNetSnapshot,
} from '../helpers/world-check.js';
import { NETNS_SUFFIXES } from '../helpers/world-sys.js';

const CLI = fileURLToPath(new URL('../helpers/world-cli.js', import.meta.url));

/** Everything a world may leave behind, by name: the tests assert each one is gone. */
async function leftovers(name: string, podA = `${name}-a`): Promise<string[]> {
  const found: string[] = [];
  for (const ns of await netnsList()) if (ns.startsWith(`${name}-`)) found.push(`netns ${ns}`);
  if (existsSync(`/etc/netns/${podA}`)) found.push(`/etc/netns/${podA}`);
  for (const d of readdirSync('/tmp')) if (d === `podlink-world-${name}`) found.push(`/tmp/${d}`);
  for (const p of pidsMentioning(name)) found.push(`process ${p}`);
  return found;
}

describe('ring-2 test world', () => {
  let world: World;
  let rootBefore: string;
  let hostResolv: string;

  before(async () => {
    requireRoot('network namespaces');
    rootBefore = await rootNetSnapshot();
    hostResolv = existsSync('/etc/resolv.conf') ? readFileSync('/etc/resolv.conf', 'utf8') : '';
    const t0 = Date.now();
    world = await createWorld();
    console.log(`# createWorld ${world.name}: ${Date.now() - t0} ms`);
  });
  after(async () => {
    await world?.destroy();
  });

  test('nothing of the world appears in the root netns, and the host resolv.conf is untouched', async () => {
    assert.equal(await rootNetSnapshot(), rootBefore);
    assert.equal(existsSync('/etc/resolv.conf') ? readFileSync('/etc/resolv.conf', 'utf8') : '', hostResolv);
  });

  test('laptop netns: loopback only, no route, pod addresses unreachable', async () => {
    const links = (await world.runIn(world.laptop, 'ip', ['-o', 'link'])).stdout.trim().split('\n');
    assert.equal(links.length, 1, `laptop links: ${links.join(' | ')}`);
    assert.match(links[0]!, /^1: lo: <LOOPBACK,UP,LOWER_UP>/);
    const addrs = (await world.runIn(world.laptop, 'ip', ['-o', 'addr'])).stdout.trim().split('\n').map((l) => l.split(/\s+/)[3]);
    assert.deepEqual(addrs.sort(), ['127.0.0.1/8', '::1/128']);
    for (const v of ['-4', '-6']) {
      const r = await world.runIn(world.laptop, 'ip', [v, 'route', 'show', 'table', 'main']);
      assert.equal(r.stdout, '', `laptop ${v} routes`);
    }
    const get = await world.runIn(world.laptop, 'ip', ['route', 'get', world.podB.ip]);
    assert.match(get.stderr, /Network is unreachable/);
    const curl = await world.runIn(world.laptop, 'curl', ['-sS', '--max-time', '3', `http://${world.podB.ip}:${world.podB.httpPort}/`]);
    assert.doesNotMatch(curl.stdout, /service-b/);
    assert.match(curl.stderr, /Network is unreachable|Couldn't connect|Failed to connect/);
    const udp = await world.runIn(world.laptop, process.execPath, ['-e', UDP_CLIENT, world.podA.ip, String(world.podA.udpPort), 'x']);
    assert.equal(udp.stdout.trim(), 'ENETUNREACH');
    for (const host of ['127.0.0.1', '::1']) {
      const lo = await world.runIn(world.laptop, process.execPath, ['-e', LOOPBACK_CLIENT, host]);
      assert.equal(lo.stdout.trim(), `ok ${host}`);
    }
  });

  test('the target runs in pod A with its resolv.conf, hosts, private /srv file and secret env', async () => {
    const { pid } = world.podA;
    assert.equal(readlinkSync(`/proc/${pid}/exe`), realpathSync(process.execPath));
    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /pod-server\.mjs/);
    assert.equal(statSync(`/proc/${pid}/ns/net`).ino, statSync(`/run/netns/${world.podA.netns}`).ino);
    assert.deepEqual(readFileSync(`/proc/${pid}/root/etc/resolv.conf`, 'utf8').trim().split('\n'), [
      `nameserver ${world.dns.ip}`,
      'search default.svc.cluster.local svc.cluster.local cluster.local',
      'options ndots:5',
    ]);
    const hosts = readFileSync(`/proc/${pid}/root/etc/hosts`, 'utf8').split('\n').map((l) => l.split(/\s+/));
    assert.ok(hosts.some(([ip, n]) => ip === world.podB.ip && n === world.serviceB.hostsOnly), 'legacy-b line');
    assert.ok(hosts.some(([ip, n]) => ip === '127.0.0.1' && n === 'localhost'), 'localhost line');
    const { targetFile: f, secretEnv: s } = world;
    assert.ok(f.path.startsWith(`${f.dir}/`));
    assert.equal(readFileSync(`/proc/${pid}/root${f.path}`, 'utf8'), f.content);
    assert.match(f.content, /token=[0-9a-f]{24}/);
    assert.deepEqual(readdirSync(`/proc/${pid}/root${f.dir}`).sort(), f.entries);
    assert.ok(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${s.name}=${s.value}`));
    assert.equal(process.env[s.name], undefined, 'the secret is not in the test process env');
    assert.equal(existsSync(f.path), false, 'the target file is not on the host');
    assert.equal(existsSync(f.dir), false, 'the target dir is not on the host');
    const cat = await world.runIn(world.laptop, 'cat', [f.path]);
    assert.equal(cat.stdout, '');
    assert.match(cat.stderr, /No such file or directory/);
    const env = await world.runIn(world.laptop, 'env', []);
    assert.doesNotMatch(env.stdout, new RegExp(s.value));
  });

  test("the target's resolver answers cluster names from dnsmasq and hosts-only names from /etc/hosts", async () => {
    const { pid } = world.podA;
    for (const name of [world.serviceB.short, world.serviceB.fqdn]) {
      const r = await inTarget(pid, 'getent', ['hosts', name]);
      assert.deepEqual(r.stdout.trim().split(/\s+/), [world.podB.ip, world.serviceB.fqdn], `getent hosts ${name}`);
    }
    const legacy = await inTarget(pid, 'getent', ['hosts', world.serviceB.hostsOnly]);
    assert.deepEqual(legacy.stdout.trim().split(/\s+/), [world.podB.ip, world.serviceB.hostsOnly]);
    for (const name of ['no-such-service', 'example.com']) {
      const r = await inTarget(pid, 'getent', ['hosts', name]);
      assert.equal(r.stdout, '', `${name} must not resolve`);
      assert.equal(r.code, 2); // getent: "key not found"
    }
    const log = readFileSync(`${world.dir}/dnsmasq.log`, 'utf8');
    assert.match(log, new RegExp(`query\\[A\\] ${world.serviceB.fqdn} from ${world.podA.ip}`));
    assert.match(log, new RegExp(`${world.serviceB.fqdn} is ${world.podB.ip}`));
  });

  test('inside the world: HTTP pod A -> service-b by name and IP, HTTP pod B -> pod A, UDP echo', async () => {
    const byName = await inTarget(world.podA.pid, 'curl', ['-sS', '--max-time', '5', `http://${world.serviceB.short}/hello?x=1`]);
    assert.equal(byName.stdout, 'hello from service-b /hello?x=1\n');
    const post = await world.runIn(world.podA.netns, 'curl', ['-sS', '--max-time', '5', '--data-binary', 'abc', `http://${world.podB.ip}/post`]);
    assert.equal(post.stdout, 'hello from service-b /post\nbody:abc\n');
    const toA = await world.runIn(world.podB.netns, 'curl', ['-sS', '--max-time', '5', `http://${world.podA.ip}:${world.podA.httpPort}/from-b`]);
    assert.equal(toA.stdout, 'pod-a says hi /from-b\n');
    const udp = await world.runIn(world.podB.netns, process.execPath, ['-e', UDP_CLIENT, world.podA.ip, String(world.podA.udpPort), 'ping-42']);
    assert.equal(udp.stdout.trim(), 'echo:ping-42');
  });

  test('spawnIn enters only the netns, returns the command pid, and refuses foreign netns', async () => {
    const child = world.spawnIn(world.podA.netns, 'sleep', ['30']);
    await eventually(() => existsSync(`/proc/${child.pid}/ns/net`) && readlinkSync(`/proc/${child.pid}/exe`).endsWith('sleep'));
    assert.equal(statSync(`/proc/${child.pid}/ns/net`).ino, statSync(`/run/netns/${world.podA.netns}`).ino);
    assert.equal(readlinkSync(`/proc/${child.pid}/ns/mnt`), readlinkSync('/proc/self/ns/mnt'), 'same mount namespace as the caller');
    child.kill();
    const dflt = await world.runIn('', 'ip', ['-o', 'link']);
    assert.equal(dflt.stdout.trim().split('\n').length, 1, "'' means the laptop");
    assert.throws(() => world.spawnIn('kcl-node', 'true', []), /not part of world/);
    const timed = await world.runIn(world.laptop, 'sleep', ['10'], { timeoutMs: 200 });
    assert.equal(timed.code, null);
    const input = await world.runIn(world.laptop, 'cat', [], { input: 'through stdin' });
    assert.equal(input.stdout, 'through stdin');
  });

  test('a second world reuses the subnet next to the first one', async () => {
    const t0 = Date.now();
    const w2 = await createWorld();
    console.log(`# second createWorld: ${Date.now() - t0} ms`);
    try {
      assert.notEqual(w2.name, world.name);
      assert.equal(w2.podB.ip, world.podB.ip);
      assert.notEqual(w2.secretEnv.value, world.secretEnv.value);
      const r = await inTarget(w2.podA.pid, 'curl', ['-sS', '--max-time', '5', `http://${w2.serviceB.fqdn}/two`]);
      assert.equal(r.stdout, 'hello from service-b /two\n');
      assert.equal(readFileSync(`/proc/${w2.podA.pid}/root${w2.targetFile.path}`, 'utf8'), w2.targetFile.content);
      assert.notEqual(w2.targetFile.content, world.targetFile.content);
    } finally {
      const t1 = Date.now();
      await w2.destroy();
      console.log(`# second destroy: ${Date.now() - t1} ms`);
    }
    assert.deepEqual(await leftovers(w2.name), []);
    const still = await world.runIn(world.podA.netns, 'curl', ['-sS', '--max-time', '5', `http://${world.podB.ip}/still`]);
    assert.equal(still.stdout, 'hello from service-b /still\n');
  });

  test('a taken name is refused and nothing that was not created is deleted', async () => {
    await assert.rejects(createWorld({ name: world.name }), /exists or left leftovers/);
    assert.equal((await netnsList()).filter((n) => n.startsWith(`${world.name}-`)).length, NETNS_SUFFIXES.length);
    // Someone else's netns with a colliding name: createWorld fails, cleans up its own, keeps theirs.
    const name = `pl-t${process.pid.toString(36)}`;
    await exec('ip', ['netns', 'add', `${name}-b`]);
    try {
      await assert.rejects(createWorld({ name }), /File exists/);
      assert.deepEqual((await netnsList()).filter((n) => n.startsWith(`${name}-`)), [`${name}-b`]);
      assert.equal(existsSync(`/tmp/podlink-world-${name}`), false);
    } finally {
      await exec('ip', ['netns', 'del', `${name}-b`]);
    }
  });

  for (const step of ['network', 'etc', 'servers', 'ready'] as const) {
    test(`a failure after '${step}' leaves nothing behind`, async () => {
      const name = `pl-f${step}-${process.pid.toString(36)}`;
      const children = new Set(livingChildren()); // the main world's servers are our children too
      await assert.rejects(createWorld({ name, failAfter: step }), new RegExp(`failing after '${step}'`));
      assert.deepEqual(await leftovers(name), []);
      assert.deepEqual(livingChildren().filter((p) => !children.has(p)), [], 'no process started by createWorld is still running');
    });
  }

  test('destroy() kills every process, deletes every namespace and file, and is idempotent', async () => {
    const sleeper = world.spawnIn(world.laptop, 'sleep', ['300']);
    const pids = [sleeper.pid!, world.podA.pid];
    for (const ns of [world.laptop, world.podA.netns, world.podB.netns, world.dns.netns]) pids.push(...(await netnsPids(ns)));
    assert.ok(pids.length >= 6, `expected sleeper, target, pod B, dnsmasq and its init, got ${pids}`);
    const t0 = Date.now();
    await world.destroy();
    console.log(`# destroy: ${Date.now() - t0} ms`);
    assert.deepEqual(pids.filter(alive), []);
    assert.deepEqual(await leftovers(world.name), []);
    assert.equal(existsSync(world.dir), false);
    assert.equal(await rootNetSnapshot(), rootBefore);
    await world.destroy(); // idempotent
    assert.throws(() => world.spawnIn(world.laptop, 'true', []), /destroyed/);
  });
});

describe('world-cli', () => {
  before(() => requireRoot('network namespaces'));
  function startUp(args: string[]) {
    const child = spawn(process.execPath, [CLI, 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const first = new Promise<World>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (l) => resolve(JSON.parse(l) as World));
      child.once('exit', (c) => reject(new Error(`world-cli up exited ${c}`)));
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    return { child, first, exited };
  }

  test('up prints the world as JSON and destroys it on SIGTERM', async () => {
    const { child, first, exited } = startUp([]);
    const w = await first;
    assert.match(w.name, /^pl-[0-9a-f]{4}$/);
    assert.equal(w.laptop, `${w.name}-laptop`);
    assert.ok(alive(w.podA.pid));
    assert.equal(readFileSync(`/proc/${w.podA.pid}/root${w.targetFile.path}`, 'utf8'), w.targetFile.content);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(alive(w.podA.pid), false);
    assert.deepEqual(await leftovers(w.name), []);
  });

  test('down --name removes the leftovers of a world whose creator was SIGKILLed', async () => {
    const name = `pl-c${process.pid.toString(36)}`;
    const { child, first, exited } = startUp(['--name', name]);
    const w = await first;
    child.kill('SIGKILL');
    await exited;
    // The servers die with their creator (parent-death signal); the namespaces stay behind.
    assert.ok(await eventually(() => pidsMentioning(name).length === 0 && !alive(w.podA.pid)), 'world processes died with the CLI');
    assert.equal((await netnsList()).filter((n) => n.startsWith(`${name}-`)).length, NETNS_SUFFIXES.length);
    const listed = await nodeScript(CLI, ['list']);
    assert.match(listed.stdout, new RegExp(`^${name}\\towner pid \\d+ \\(gone\\)$`, 'm'));
    const down = await nodeScript(CLI, ['down', '--name', name]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, new RegExp(`deleted netns ${name}-a`));
    assert.deepEqual(await leftovers(name), []);
    const again = await nodeScript(CLI, ['down', '--name', name]);
    assert.equal(again.stdout.trim(), `nothing left of world ${name}`);
    const bad = await nodeScript(CLI, ['down', '--name', 'kcl-node']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid world name/);
  });
});
