/**
 * `podlink exec -t pid/<pod A's server>` run from the laptop netns (loopback only) with real curl,
 * node, python3 and java under the real layer, intproxy and agent. Each program must, from the laptop:
 * resolve service-b by its short and cluster name through pod A's DNS, fetch from pod B over TCP,
 * round-trip UDP with pod A, see pod A's secret env var, read a file that exists only in pod A's mount
 * namespace, list its directory, write a file that lands locally, and run a child (with an emptied
 * environment) that is hooked too. Needs root.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../common/paths.js';
import { createWorld, type World } from '../helpers/world.js';

const probes = path.join(packageRoot, 'test', 'fixtures', 'exec');
const cli = path.join(packageRoot, 'bin', 'podlink.js');

interface Report {
  resolvedShort: unknown;
  resolvedFqdn: unknown;
  http: unknown;
  udp: unknown;
  env: unknown;
  file: unknown;
  dirEntries: unknown;
  wrote: unknown;
  child: unknown;
}

describe('podlink exec -t pid/… from a laptop with loopback only', () => {
  let world: World;
  let out: string;
  const written: string[] = [];

  before(async () => {
    world = await createWorld();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-exec-'));
  });
  after(async () => {
    await world?.destroy();
    if (out) fs.rmSync(out, { recursive: true, force: true });
    for (const f of written) fs.rmSync(f, { force: true });
  });

  /** Run `podlink exec` in the laptop netns; the cwd is a local temp dir. */
  function podlinkExec(command: string[], timeoutMs = 120_000) {
    return world.runIn(world.laptop, process.execPath, [cli, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', ...command], { cwd: out, timeoutMs });
  }

  it('is really isolated: without podlink the laptop cannot reach pod B', async () => {
    const r = await world.runIn(world.laptop, 'curl', ['-sS', '-m', '3', `http://${world.podB.ip}/`]);
    assert.equal(r.code, 7, r.stderr); // couldn't connect: no route from the laptop
    assert.match(r.stderr, /Network is unreachable|Couldn't connect/);
    assert.doesNotMatch(r.stdout, /service-b/);
  });

  const runtimes: [string, (cfg: string) => string[]][] = [
    ['node', (cfg) => [process.execPath, path.join(probes, 'probe.mjs'), cfg]],
    ['python3', (cfg) => ['python3', path.join(probes, 'probe.py'), cfg]],
    ['java', (cfg) => ['java', path.join(probes, 'Probe.java'), cfg]],
  ];

  for (const [name, command] of runtimes) {
    it(`gives ${name} the target's DNS, network, env and files; writes stay local; children stay hooked`, async () => {
      // /srv is where the two views differ: pod A has its own tmpfs there, this machine its own /srv.
      const localOut = `/srv/podlink-test-${world.name}-${name}.txt`;
      written.push(localOut);
      const cfg = JSON.stringify({
        short: world.serviceB.short,
        fqdn: world.serviceB.fqdn,
        httpPath: `/from-${name}`,
        udpHost: world.podA.ip,
        udpPort: world.podA.udpPort,
        tag: `udp-${name}`,
        envName: world.secretEnv.name,
        file: world.targetFile.path,
        dir: world.targetFile.dir,
        localOut,
      });
      const r = await podlinkExec(command(cfg));
      assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.stderr}`);
      const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as Report;
      assert.deepEqual(report, {
        resolvedShort: world.podB.ip,
        resolvedFqdn: world.podB.ip,
        http: `hello from service-b /from-${name}\n`,
        udp: `echo:udp-${name}`,
        env: world.secretEnv.value,
        file: world.targetFile.content,
        dirEntries: [...world.targetFile.entries].sort(),
        wrote: true,
        child: world.targetFile.content,
      });
      // The write landed on this machine, not in the target.
      assert.equal(fs.readFileSync(localOut, 'utf8'), `written by udp-${name}\n`);
      assert.equal(fs.existsSync(`/proc/${world.podA.pid}/root${localOut}`), false);
    });
  }

  it('gives curl the same: names, TCP, UDP (TFTP), the target-only file, env; -o writes locally', async () => {
    const d = path.join(out, 'curl');
    fs.mkdirSync(d);
    const r = await podlinkExec([
      'curl', '-sS', '-m', '20', '-w', '%{remote_ip}\\n',
      '-o', `${d}/short.txt`, `http://${world.serviceB.short}/curl-short`,
      '-o', `${d}/fqdn.txt`, `http://${world.serviceB.fqdn}/curl-fqdn`,
      '-o', `${d}/hosts.txt`, `http://${world.serviceB.hostsOnly}/curl-hosts`,
      '-o', `${d}/udp.txt`, `tftp://${world.podA.ip}:${world.podA.udpPort}/curl-udp`,
      '-o', `${d}/file.txt`, `file://${world.targetFile.path}`,
      // curl has no way to print a variable; its own environ shows what it was started with.
      '-o', `${d}/environ.txt`, 'file:///proc/self/environ',
    ]);
    assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.stderr}`);
    assert.deepEqual(r.stdout.split('\n').slice(0, 3), [world.podB.ip, world.podB.ip, world.podB.ip]);
    const read = (f: string): string => fs.readFileSync(path.join(d, f), 'utf8');
    assert.equal(read('short.txt'), 'hello from service-b /curl-short\n');
    assert.equal(read('fqdn.txt'), 'hello from service-b /curl-fqdn\n');
    assert.equal(read('hosts.txt'), 'hello from service-b /curl-hosts\n');
    assert.equal(read('udp.txt'), 'tftp:curl-udp\n');
    assert.equal(read('file.txt'), world.targetFile.content);
    assert.ok(read('environ.txt').split('\0').includes(`${world.secretEnv.name}=${world.secretEnv.value}`));
  });

  it('keeps files local with --fs-mode local, and names local with --no-remote-dns', async () => {
    const r = await world.runIn(
      world.laptop,
      process.execPath,
      [cli, 'exec', '-q', '--fs-mode', 'local', '--no-remote-dns', '-t', `pid/${world.podA.pid}`, '--',
        'python3', '-c', `import os, socket
print(os.path.exists(${JSON.stringify(world.targetFile.path)}))
try:
    socket.getaddrinfo(${JSON.stringify(world.serviceB.short)}, 80)
    print("resolved")
except socket.gaierror:
    print("unresolved")
print(os.environ.get(${JSON.stringify(world.secretEnv.name)}))`],
      { cwd: out },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['False', 'unresolved', world.secretEnv.value]);
  });
});
