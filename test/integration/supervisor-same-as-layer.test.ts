/**
 * Issue 18: the supervisor behaves as the layer does. Dynamic programs the layer serves are forced onto
 * the supervisor path (the test switch PODLINK_EXEC_PATH=supervisor) and must pass the layer's own
 * scenarios unchanged: node's exec-pid probe (DNS through getaddrinfo, fetch, UDP, env, the target's
 * file and directory, a local write, a child with an emptied environment), and the issue-13
 * non-blocking connects to a port that drops SYNs (node's loop keeps running and the error arrives
 * through SO_ERROR; python sees EINPROGRESS, EALREADY, then ETIMEDOUT; a connect the program closes is
 * abandoned in the target while another one goes on), and a C event-loop client (epoll, options and
 * the registration made before a non-blocking connect) whose output must be the layer's, byte for byte.
 * The layer's C snippets run under the supervisor too, in test/unit/supervisor-snippets.test.ts. Needs root.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../common/paths.js';
import { CLI, PORTS } from '../helpers/matrix.js';
import { createWorld, type World } from '../helpers/world.js';

const KEPT = 82;
const FORCED = 'PODLINK_EXEC_PATH=supervisor';

describe('the supervisor passes the layer scenarios (dynamic programs forced onto it)', () => {
  let world: World;
  let out: string;
  const written: string[] = [];

  before(async () => {
    world = await createWorld();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-sup-same-'));
    for (const port of [PORTS.blackhole, KEPT]) {
      const r = await world.runIn(world.podB.netns, 'iptables', ['-w', '-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await world?.destroy();
    if (out) fs.rmSync(out, { recursive: true, force: true });
    for (const f of written) fs.rmSync(f, { force: true });
  });

  const exec = (command: string[], forced = FORCED) =>
    world.runIn(world.laptop, 'env', [forced, process.execPath, CLI, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', ...command], { cwd: out, timeoutMs: 120_000 });

  it('a C epoll client: the same events, options, peer and response as under the layer', async () => {
    const client = path.join(packageRoot, 'supervisor', 'build', 'test', 'epollget');
    const args = [client, world.podB.ip, '80', '/from-epoll'];
    const layer = await exec(args, 'PODLINK_EXEC_PATH=layer');
    const supervised = await exec(args);
    assert.equal(layer.code, 0, layer.stderr);
    assert.equal(supervised.code, 0, supervised.stderr);
    const expected =
      `connect=EINPROGRESS\nwritable=1 data=42 hup=0 so_error=0 nodelay=1\npeer=${world.podB.ip}:80\n` +
      'status=HTTP/1.1 200 OK\nbody=hello from service-b /from-epoll\n';
    assert.equal(layer.stdout, expected);
    assert.equal(supervised.stdout, expected);
  });

  it("node's exec-pid probe: the target's DNS, network, env and files; writes stay local; children served", async () => {
    const localOut = `/srv/podlink-test-${world.name}-sup-node.txt`;
    written.push(localOut);
    const cfg = JSON.stringify({
      short: world.serviceB.short, fqdn: world.serviceB.fqdn, httpPath: '/from-node', udpHost: world.podA.ip,
      udpPort: world.podA.udpPort, tag: 'udp-node', envName: world.secretEnv.name, file: world.targetFile.path,
      dir: world.targetFile.dir, localOut,
    });
    const r = await exec([process.execPath, path.join(packageRoot, 'test', 'fixtures', 'exec', 'probe.mjs'), cfg]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), {
      resolvedShort: world.podB.ip,
      resolvedFqdn: world.podB.ip,
      http: 'hello from service-b /from-node\n',
      udp: 'echo:udp-node',
      env: world.secretEnv.value,
      file: world.targetFile.content,
      dirEntries: [...world.targetFile.entries].sort(),
      wrote: true,
      child: world.targetFile.content,
    });
    assert.equal(fs.readFileSync(localOut, 'utf8'), 'written by udp-node\n');
  });

  it('node: the timer fires while connecting (the loop is not blocked); the error comes through SO_ERROR', async () => {
    const js = `const s = require('net').connect({ host: ${JSON.stringify(world.podB.ip)}, port: ${PORTS.blackhole} });
setImmediate(() => setTimeout(() => console.log('timer, connecting=' + s.connecting), 100));
s.on('connect', () => console.log('connected?!'));
s.on('error', (e) => console.log('error ' + e.code + ' from ' + e.syscall));`;
    const r = await exec([process.execPath, '-e', js]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'timer, connecting=true\nerror ETIMEDOUT from connect\n');
  });

  it('python: EINPROGRESS at once, EALREADY on a second connect, ETIMEDOUT from SO_ERROR', async () => {
    const py = `import errno, select, socket
s = socket.socket(); s.setblocking(False)
print(errno.errorcode[s.connect_ex((${JSON.stringify(world.podB.ip)}, ${PORTS.blackhole}))])
print(errno.errorcode[s.connect_ex((${JSON.stringify(world.podB.ip)}, ${PORTS.blackhole}))])
select.select([], [s], [])
print(errno.errorcode[s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)])`;
    const r = await exec(['python3', '-c', py]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'EINPROGRESS\nEALREADY\nETIMEDOUT\n');
  });

  it('a connect the program closes is abandoned in the target; one it keeps goes on', async () => {
    const py = `import select, socket, sys
def start(port):
    s = socket.socket(); s.setblocking(False); s.connect_ex((${JSON.stringify(world.podB.ip)}, port)); return s
kept = start(${KEPT}); dropped = start(${PORTS.blackhole})
print("started", flush=True)
sys.stdin.readline()
dropped.close()
print("closed", flush=True)
select.select([], [kept], [])
print("kept", kept.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), flush=True)`;
    const child = world.spawnIn(world.laptop, 'env', [FORCED, process.execPath, CLI, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', 'python3', '-c', py], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const synSent = async (): Promise<number[]> => {
      const r = await world.runIn(world.podA.netns, 'ss', ['-Htn', 'state', 'syn-sent']);
      return [...r.stdout.matchAll(new RegExp(`${world.podB.ip.replace(/\./g, '\\.')}:(\\d+)`, 'g'))].map((m) => Number(m[1])).sort();
    };
    const until = async (what: string, ok: () => boolean | Promise<boolean>): Promise<void> => {
      for (let i = 0; !(await ok()); i++) {
        if (i > 2000) throw new Error(`never: ${what} (output so far: ${stdout})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until('both connects in flight from the target', async () => stdout.includes('started') && (await synSent()).length === 2);
    child.stdin!.write('\n');
    await until('the program closed one', () => stdout.includes('closed'));
    await until('only the kept connect left in the target', async () => (await synSent()).length === 1);
    assert.deepEqual(await synSent(), [KEPT]);
    assert.equal(await exited, 0);
    assert.equal(stdout, 'started\nclosed\nkept 110\n');
  });
});
