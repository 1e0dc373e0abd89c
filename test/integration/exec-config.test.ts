/**
 * The config file, not flags, drives `podlink exec`: target, fs mode and patterns, env include and
 * override (templated from USER), env_file, outgoing and DNS switches, the intproxy log; and a team's
 * `.mirrord/mirrord.json` is picked up as it is, with a notice. Run from the laptop netns. Needs root.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../common/paths.js';
import { createWorld, type World } from '../helpers/world.js';

const cli = path.join(packageRoot, 'bin', 'podlink.js');

/** A python program that reports env, files, DNS, TCP and UDP as one JSON line. */
function probe(world: World): string[] {
  const w = JSON.stringify({
    file: world.targetFile.path,
    other: `${world.targetFile.dir}/labels`,
    short: world.serviceB.short,
    podB: world.podB.ip,
    podA: world.podA.ip,
    udp: world.podA.udpPort,
  });
  const code = `import json, os, socket, urllib.request
w = json.loads(${JSON.stringify(w)})
out = {}
def attempt(k, f):
    try: out[k] = f()
    except Exception as e: out[k] = "error " + type(e).__name__
env = lambda n: os.environ.get(n)
for n in ["PODLINK_TEST_SECRET", "POD_NAME", "SERVICE_B_SERVICE_HOST", "GREETING", "FROM_ENV_FILE"]:
    out[n] = env(n)
attempt("file", lambda: open(w["file"]).read())
attempt("other", lambda: open(w["other"]).read())
attempt("dns", lambda: socket.getaddrinfo(w["short"], 80, socket.AF_INET)[0][4][0])
attempt("tcp", lambda: urllib.request.urlopen("http://%s/cfg" % w["podB"], timeout=10).read().decode())
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
    s.sendto(b"cfg", (w["podA"], w["udp"])); return s.recvfrom(100)[0].decode()
attempt("udp", udp)
print(json.dumps(out))`;
  return ['python3', '-c', code];
}

describe('podlink exec driven by a config file', () => {
  let world: World;
  let dir: string;
  before(async () => {
    world = await createWorld();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-config-'));
  });
  after(async () => {
    await world?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('takes target, fs, env, outgoing and DNS from .podlink/podlink.yaml, templated from USER', async () => {
    const cwd = path.join(dir, 'team');
    fs.mkdirSync(path.join(cwd, '.podlink'), { recursive: true });
    fs.writeFileSync(path.join(cwd, '.env.dev'), 'FROM_ENV_FILE=dotenv-value\n');
    const log = path.join(dir, 'intproxy.log');
    fs.writeFileSync(
      path.join(cwd, '.podlink', 'podlink.yaml'),
      `target: "pid/{{ get_env(name="PODLINK_TEST_TARGET") }}"
feature:
  fs:
    mode: localwithoverrides
    read_only: ["^/srv/podinfo/app\\\\.conf$"]
  env:
    include: ["PODLINK_TEST_*", "POD_NAME"]
    override:
      GREETING: 'hi {{ get_env(name="USER", default="nobody") }}'
    env_file: .env.dev
  network:
    outgoing: { tcp: true, udp: false }
    dns: { enabled: true }
internal_proxy:
  log_destination: ${log}
  log_level: debug
`,
    );
    const user = `dev-${randomBytes(3).toString('hex')}`;
    const r = await world.runIn(world.laptop, process.execPath, [cli, 'exec', '-q', '--', ...probe(world)], {
      cwd,
      env: { ...process.env, USER: user, PODLINK_TEST_TARGET: String(world.podA.pid) },
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      PODLINK_TEST_SECRET: world.secretEnv.value, // included by PODLINK_TEST_*
      POD_NAME: 'pod-a',
      SERVICE_B_SERVICE_HOST: null, // in the target, but not included
      GREETING: `hi ${user}`,
      FROM_ENV_FILE: 'dotenv-value',
      file: world.targetFile.content, // read_only pattern: remote
      other: 'error FileNotFoundError', // localwithoverrides: everything else local
      dns: world.podB.ip,
      tcp: 'hello from service-b /cfg\n',
      udp: 'error OSError', // outgoing UDP off: the laptop has no route
    });
    assert.match(fs.readFileSync(log, 'utf8'), /podlink\[intproxy\] layer: python3 pid \d+/);
  });

  it('picks up a team\'s .mirrord/mirrord.json as it is, and says so', async () => {
    const cwd = path.join(dir, 'mirrord-team');
    fs.mkdirSync(path.join(cwd, '.mirrord'), { recursive: true });
    fs.writeFileSync(
      path.join(cwd, '.mirrord', 'mirrord.json'),
      `{
  // mirrord's file, comments and all
  "target": { "path": "pid/${world.podA.pid}" },
  "feature": {
    "fs": "local",
    "network": { "dns": false, "outgoing": { "udp": true } },
    "env": { "exclude": "POD_*;HOSTNAME" }
  }
}
`,
    );
    const r = await world.runIn(world.laptop, process.execPath, [cli, 'exec', '-q', '--', ...probe(world)], { cwd, timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^podlink: using mirrord config \.mirrord\/mirrord\.json/m);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      { secret: out.PODLINK_TEST_SECRET, pod: out.POD_NAME, svc: out.SERVICE_B_SERVICE_HOST, file: out.file, dns: out.dns, udp: out.udp, tcp: out.tcp },
      {
        secret: world.secretEnv.value,
        pod: null, // excluded by "POD_*"
        svc: world.podB.ip,
        file: 'error FileNotFoundError', // fs local
        dns: 'error gaierror', // remote DNS off
        udp: 'echo:cfg',
        tcp: 'hello from service-b /cfg\n',
      },
    );
  });

  it('refuses a missing env_file before starting anything', async () => {
    const cwd = path.join(dir, 'bad-env-file');
    fs.mkdirSync(cwd);
    fs.writeFileSync(path.join(cwd, 'c.json'), JSON.stringify({ target: `pid/${world.podA.pid}`, feature: { env: { env_file: 'missing.env' } } }));
    const r = await world.runIn(world.laptop, process.execPath, [cli, 'exec', '-f', 'c.json', '--', 'true'], { cwd });
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), /^podlink: cannot read feature\.env\.env_file .*missing\.env: .* \(fix the path, or remove env_file\)$/);
  });
});
