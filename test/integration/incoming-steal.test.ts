/**
 * Issue 14, steal on a `pid/` target: `podlink exec --steal` of a local app, run from the laptop netns
 * (loopback only), takes pod A's port. A caller in pod B gets the local app's answer, and the local app
 * sees that caller's real address; so does a caller inside pod A over localhost and over the pod's own
 * address; port_mapping lets the app listen on another port. After every session pod A's whole ruleset
 * (nft and iptables, with rules of the pod's own in it) is exactly as before: after a normal end,
 * Ctrl-C, SIGKILL of the CLI and SIGKILL of the agent. Needs root, nft and iptables.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { requireRoot, requireTool } from '../helpers/requirements.js';
import { createWorld, type World } from '../helpers/world.js';
import { callFrom, endSession, gone, inNetns, podRules, processes, ruleset, signalGroup, startSession } from '../helpers/incoming.js';

describe('incoming traffic: steal (pid target)', () => {
  let world: World;
  let rulesBefore: string;

  before(async () => {
    requireRoot('network namespaces and nftables');
    requireTool('nft', ['--version']);
    requireTool('iptables-save', ['--version']);
    world = await createWorld();
    await podRules(world);
    rulesBefore = await ruleset(world);
  });
  after(() => world?.destroy());

  const steal = { feature: { network: { incoming: 'steal' } } };
  const curl = (ns: string, url: string) => callFrom(world, ns, 'curl', ['-sS', '-m', '10', url]);

  it('should give a caller in another pod the local answer, and the local app the real caller', async () => {
    const s = await startSession(world, steal, ['http', world.podA.httpPort, 'local']);
    try {
      assert.equal(await curl(world.podB.netns, `http://${world.podA.ip}:${world.podA.httpPort}/hello`), 'local GET /hello\n');
      const seen = await s.waitFor('app', (v) => v['what'] === 'GET /hello');
      assert.match(String(seen['peer']), new RegExp(`^(::ffff:)?${world.podB.ip.replace(/\./g, '\\.')}:\\d+$`), 'getpeername gives pod B, not the intproxy');
      assert.ok(s.events.some((e) => e['event'] === 'incoming' && e['mode'] === 'steal' && e['port'] === world.podA.httpPort));
      // Over localhost and over the pod's own address, from inside the pod (a mesh sidecar's path).
      assert.equal(await curl(world.podA.netns, `http://127.0.0.1:${world.podA.httpPort}/inside`), 'local GET /inside\n');
      assert.equal(await curl(world.podA.netns, `http://${world.podA.ip}:${world.podA.httpPort}/inside-ip`), 'local GET /inside-ip\n');
      // The pod's own outgoing calls to that port elsewhere are not taken.
      const r = await world.runIn(world.podA.netns, 'curl', ['-sS', '-m', '10', `http://${world.podB.ip}:80/out`]);
      assert.match(r.stdout, /hello from service-b/);
    } finally {
      assert.equal(await endSession(s), 0, s.stderr); // the app's own status
    }
    assert.equal(await ruleset(world), rulesBefore, 'pod A ruleset after a normal end');
    assert.match(await curl(world.podB.netns, `http://${world.podA.ip}:${world.podA.httpPort}/after`), /pod-a says hi \/after/, 'the pod answers again');
  });

  it('should map the app\'s port to the pod\'s (port_mapping [[3000, 8080]])', async () => {
    const cfg = { feature: { network: { incoming: { mode: 'steal', port_mapping: [[3000, world.podA.httpPort]] } } } };
    const s = await startSession(world, cfg, ['http', 3000, 'local3000']);
    try {
      assert.deepEqual(
        s.events.filter((e) => e['event'] === 'incoming').map((e) => [e['port'], e['remotePort'], e['mode']]),
        [[3000, world.podA.httpPort, 'steal']],
      );
      assert.equal(await curl(world.podB.netns, `http://${world.podA.ip}:${world.podA.httpPort}/mapped`), 'local3000 GET /mapped\n');
    } finally {
      await endSession(s);
    }
    assert.equal(await ruleset(world), rulesBefore);
  });

  it('should leave a port in ignore_ports local, saying why', async () => {
    const cfg = { feature: { network: { incoming: { mode: 'steal', ignore_ports: [world.podA.httpPort] } } } };
    const s = await startSession(world, cfg, ['http', world.podA.httpPort, 'local'], { allowError: true });
    try {
      const e = s.events.find((v) => v['event'] === 'incoming')!;
      assert.equal(e['local'], `port ${world.podA.httpPort} is in incoming.ignore_ports`);
      assert.equal(await ruleset(world), rulesBefore, 'nothing was installed');
      assert.match(await curl(world.podB.netns, `http://${world.podA.ip}:${world.podA.httpPort}/kept`), /pod-a says hi/);
    } finally {
      await endSession(s);
    }
  });

  it('should give the pod its port back at once when the local app dies, while the session goes on', async () => {
    const s = await startSession(world, steal, ['http', world.podA.httpPort, 'local-dies'], { shell: (app) => `${app} & echo "app $!"; wait; sleep 600` });
    try {
      assert.equal(await curl(world.podB.netns, `http://${world.podA.ip}:${world.podA.httpPort}/before`), 'local-dies GET /before\n');
      // The app itself (not the shell or podlink, whose command lines name it too).
      const app = processes('incoming/app.mjs', 'local-dies').filter((p) => p.cmd.startsWith(`${process.execPath} `) && p.cmd.split(' ')[1]!.endsWith('app.mjs'));
      assert.equal(app.length, 1);
      process.kill(app[0]!.pid, 'SIGKILL');
      // Its layer links close with it: the intproxy gives the port back, the agent drops the redirect.
      const until = Date.now() + 15_000;
      while ((await ruleset(world)) !== rulesBefore && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await ruleset(world), rulesBefore, 'the redirect went with the app');
      assert.match(await curl(world.podB.netns, `http://${world.podA.ip}:${world.podA.httpPort}/after-crash`), /pod-a says hi \/after-crash/);
      assert.equal(s.child.exitCode, null, 'the session itself goes on');
      // …and says so (the line `podlink sessions` follows on a cluster).
      const back = await s.waitFor('events', (v) => v['event'] === 'incoming' && v['released'] === true);
      assert.deepEqual([back['port'], back['remotePort'], back['mode']], [world.podA.httpPort, world.podA.httpPort, 'steal']);
    } finally {
      signalGroup(s, 'SIGKILL');
      await s.exited;
      await gone(15_000, () => processes('agent/main.js', '--pid', String(world.podA.pid)));
    }
  });

  for (const how of ['Ctrl-C', 'SIGKILL of the CLI', 'SIGKILL of the agent'] as const) {
    it(`should leave pod A's ruleset exactly as before after ${how}`, async () => {
      const s = await startSession(world, steal, ['http', world.podA.httpPort, 'local']);
      const agentArgs = ['agent/main.js', '--pid', String(world.podA.pid)];
      assert.equal(processes(...agentArgs).length, 1, 'one agent runs');
      assert.notEqual(await ruleset(world), rulesBefore, 'the redirect is in place during the session');
      assert.equal(await curl(world.podB.netns, `http://${world.podA.ip}:${world.podA.httpPort}/x`), 'local GET /x\n');
      if (how === 'Ctrl-C') {
        signalGroup(s, 'SIGINT');
        assert.equal(await s.exited, 0); // the app exits 0 on SIGINT, and podlink with its status
      } else if (how === 'SIGKILL of the CLI') {
        process.kill(s.child.pid!, 'SIGKILL');
        await s.exited;
        signalGroup(s, 'SIGKILL'); // the app, orphaned
      } else {
        process.kill(processes(...agentArgs)[0]!.pid, 'SIGKILL');
        await s.waitFor('events', (e) => e['event'] === 'agent-lost');
      }
      // The agent goes, and its nft with it: the kernel drops the owner table.
      await gone(15_000, () => processes(...agentArgs));
      await gone(15_000, () => inNetns(world.podA.netns, 'nft'));
      assert.equal(await ruleset(world), rulesBefore, `pod A ruleset after ${how}`);
      assert.match(await curl(world.podB.netns, `http://${world.podA.ip}:${world.podA.httpPort}/back`), /pod-a says hi \/back/);
      signalGroup(s, 'SIGKILL');
      await s.exited;
    });
  }
});
