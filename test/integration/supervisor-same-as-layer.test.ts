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
import { blackholeConnectCases, dropSyns } from '../helpers/blackhole.js';
import { CLI } from '../helpers/matrix.js';
import { createWorld, type World } from '../helpers/world.js';

const FORCED = 'PODLINK_EXEC_PATH=supervisor';

describe('the supervisor passes the layer scenarios (dynamic programs forced onto it)', () => {
  let world: World;
  let out: string;
  const written: string[] = [];

  before(async () => {
    world = await createWorld();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-sup-same-'));
    await dropSyns(world);
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

  blackholeConnectCases(() => world, (command) => ['env', [FORCED, process.execPath, CLI, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', ...command]]);
});
