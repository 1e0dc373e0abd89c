// `podlink sessions` and the early conflict check, with no cluster: what a session records on its
// agent's Job (kube/sessions.ts), how a Job — or an ephemeral agent's record, while its container
// runs — reads back as a session, the table and JSON the command
// prints (cli/commands/Sessions.ts), and which steals are refused before their agent starts
// (cli/kube-sessions.ts) — with the very line the agent's dispatcher gives.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ContainerState, V1Job, V1Pod } from '@kubernetes/client-node';
import { agentJob, recordJob, type AgentOptions } from '../../kube/agent-spec.js';
import { ephemeralRunning, filterOn, recordedPod, sessionOf, staleRecords, type ListedSession, type SessionFacts } from '../../kube/sessions.js';
import { onTarget, sessionsJson, sessionsTable, sinceText } from '../../cli/commands/Sessions.js';
import { heldPortConflict } from '../../cli/kube-sessions.js';
import { incomingSettings, wireFilter } from '../../intproxy/incoming-settings.js';
import { conflict, type Subscriber } from '../../agent/incoming/dispatcher.js';
import { compileFilter, describeFilter } from '../../agent/incoming/filter.js';
import type { PodTarget } from '../../kube/target.js';

const T0 = Date.parse('2026-11-29T23:40:01.250Z');
const header = (user: string) => wireFilter({ header_filter: `^X-Dev-User: ${user}$` });

const target: PodTarget = {
  namespace: 'default', pod: 'service-a-7d9f', uid: 'u', container: 'app', containerId: 'c'.repeat(64), runtime: 'containerd',
  nodeName: 'kcl-node', podIP: '10.244.0.7', probePorts: [8080], path: 'deployment/service-a', describe: 'deployment/service-a → pod/service-a-7d9f/container/app',
};

const agentOpts = (session: SessionFacts, ephemeral = false) => ({
  image: 'i', imagePullPolicy: 'Never', imagePullSecrets: [], labels: {}, annotations: {}, tolerations: [], nodeSelector: {},
  resources: { requests: {}, limits: {} }, privileged: false, ephemeral, capabilities: [], ttlSeconds: 1,
  activeDeadlineSeconds: 1, startupTimeoutMs: 1, args: [], env: {}, port: 1, session,
}) as AgentOptions;

function job(session: SessionFacts, name = `podlink-agent-${session.user}`, patch: (j: V1Job) => void = () => undefined): V1Job {
  const j = agentJob(name, 'default', target, agentOpts(session));
  patch(j);
  return j;
}

const steal = (user: string, filter = header(user), extra: Partial<SessionFacts> = {}): SessionFacts => ({
  id: `id-${user}`, user, host: `${user}-laptop`, kubeUser: user, target: 'deployment/service-a', pod: 'service-a-7d9f', since: T0,
  incoming: { mode: 'steal', filter }, ...extra,
});

/** A Job as the CLI leaves it once its app listens: the ports annotation patched in. */
const listening = (s: SessionFacts, ports: string): ListedSession =>
  sessionOf(job(s, undefined, (j) => (j.metadata!.annotations!['podlink.dev/ports'] = ports)))!;

describe('sessions recorded on the agent\'s Job', () => {
  it('should write every fact as an annotation, on the Job and its pod', () => {
    const j = job(steal('alice', header('alice'), { incoming: { mode: 'steal', filter: header('alice'), filterPorts: [8080] } }));
    for (const meta of [j.metadata!, j.spec!.template.metadata!]) {
      const a = meta.annotations!;
      assert.equal(a['podlink.dev/user'], 'alice');
      assert.equal(a['podlink.dev/host'], 'alice-laptop');
      assert.equal(a['podlink.dev/kube-user'], 'alice');
      assert.equal(a['podlink.dev/target'], 'deployment/service-a');
      assert.equal(a['podlink.dev/pod'], 'service-a-7d9f');
      assert.equal(a['podlink.dev/mode'], 'steal');
      assert.deepEqual(JSON.parse(a['podlink.dev/filter']!), header('alice'));
      assert.equal(a['podlink.dev/filter-ports'], '8080');
      assert.equal(a['podlink.dev/since'], '2026-11-29T23:40:01.250Z');
      assert.equal(a['podlink.dev/ports'], undefined, 'no port before the app listens');
    }
  });

  it('should read a Job back as the session, its ports once patched', () => {
    const s = listening(steal('alice'), '8081,8080');
    assert.deepEqual(s, {
      namespace: 'default', agent: 'podlink-agent-alice', user: 'alice', host: 'alice-laptop', kubeUser: 'alice',
      target: 'deployment/service-a', pod: 'service-a-7d9f', mode: 'steal', wire: header('alice'), filter: 'header ^X-Dev-User: alice$',
      ports: [8081, 8080], since: '2026-11-29T23:40:01.250Z',
    });
  });

  it('should record no filter for an unfiltered steal or a mirror', () => {
    for (const incoming of [{ mode: 'steal' as const, filter: wireFilter({}) }, { mode: 'mirror' as const, filter: wireFilter({}) }]) {
      const j = job({ ...steal('carol'), incoming });
      assert.equal(j.metadata!.annotations!['podlink.dev/filter'], undefined);
      const s = sessionOf(j)!;
      assert.equal(s.mode, incoming.mode);
      assert.equal(s.filter, undefined);
    }
  });

  it('should not take a finished, a deleting or a foreign Job for a session', () => {
    assert.equal(sessionOf(job(steal('a'), 'x', (j) => (j.status = { conditions: [{ type: 'Complete', status: 'True' }] }))), undefined);
    assert.equal(sessionOf(job(steal('a'), 'x', (j) => (j.status = { conditions: [{ type: 'Failed', status: 'True' }] }))), undefined);
    assert.equal(sessionOf(job(steal('a'), 'x', (j) => (j.metadata!.deletionTimestamp = new Date()))), undefined);
    assert.equal(sessionOf(job(steal('a'), 'x', (j) => (j.metadata!.labels!['app.kubernetes.io/name'] = 'other'))), undefined);
    assert.ok(sessionOf(job(steal('a'), 'x', (j) => (j.status = { active: 1, conditions: [{ type: 'Suspended', status: 'False' }] }))));
  });

  it('should read a Job of an older podlink (no mode, no since) with what it has', () => {
    const s = sessionOf(job({ id: 'x', user: 'old', host: 'h' }, 'old', (j) => (j.metadata!.creationTimestamp = new Date(T0))))!;
    assert.equal(s.mode, '?');
    assert.equal(s.since, '2026-11-29T23:40:01.250Z');
    assert.deepEqual(s.ports, []);
  });

  it('should apply the filter only on http_filter.ports', () => {
    const s = sessionOf(job({ ...steal('alice'), incoming: { mode: 'steal', filter: header('alice'), filterPorts: [8080] } }))!;
    assert.deepEqual(filterOn(s, 8080), header('alice'));
    assert.deepEqual(filterOn(s, 9090), wireFilter({}));
  });
});

describe('sessions of ephemeral agents, recorded on a Job that runs nothing', () => {
  const record = (s: SessionFacts, name = `podlink-agent-${s.user}`) => recordJob(name, target, agentOpts(s, true));
  /** service-a-7d9f with its ephemeral containers in these states. */
  const pod = (states: Record<string, V1ContainerState>): V1Pod => ({
    metadata: { name: 'service-a-7d9f', namespace: 'default' },
    status: { ephemeralContainerStatuses: Object.entries(states).map(([name, state]) => ({ name, state, image: 'i', imageID: '', ready: false, restartCount: 0 })) },
  });
  const pods = (p: V1Pod) => new Map([[p.metadata!.name!, p]]);
  const running = { running: { startedAt: new Date(T0) } };

  it('should name the pod of a record, and none for an agent\'s own Job', () => {
    assert.equal(recordedPod(record(steal('alice'))), 'service-a-7d9f');
    assert.equal(recordedPod(job(steal('alice'))), undefined);
  });

  it('should read a record whose container runs as the session, its ports once patched, the container as its agent', () => {
    const j = record(steal('alice'));
    j.metadata!.annotations!['podlink.dev/ports'] = '8080';
    assert.deepEqual(sessionOf(j, pods(pod({ 'podlink-agent-alice': running }))), {
      namespace: 'default', agent: 'podlink-agent-alice', ephemeral: true, user: 'alice', host: 'alice-laptop', kubeUser: 'alice',
      target: 'deployment/service-a', pod: 'service-a-7d9f', mode: 'steal', wire: header('alice'), filter: 'header ^X-Dev-User: alice$',
      ports: [8080], since: '2026-11-29T23:40:01.250Z',
    });
  });

  it('should find the records whose container has exited as stale, in this pod only, and keep the rest', () => {
    const [a, b, c, d] = ['podlink-agent-a', 'podlink-agent-b', 'podlink-agent-c', 'podlink-agent-d'].map((n) => record(steal('alice'), n));
    const other = record(steal('bob'), 'podlink-agent-e');
    other.metadata!.annotations!['podlink.dev/pod'] = 'service-a-other';
    const p = pod({
      'podlink-agent-a': { terminated: { exitCode: 0, reason: 'Completed' } },
      'podlink-agent-b': running,
      'podlink-agent-c': { waiting: { reason: 'ContainerCreating' } },
      'podlink-agent-e': { terminated: { exitCode: 137 } },
    });
    // a: exited → stale; b: running; c: starting; d: its container not added yet; e: a record of another pod.
    assert.deepEqual(staleRecords([a!, b!, c!, d!, other, job(steal('carol'))], p), ['podlink-agent-a']);
    assert.deepEqual(staleRecords([{ ...a!, metadata: { ...a!.metadata, deletionTimestamp: new Date() } }], p), [], 'already being deleted');
  });

  it('should count a record only while its container runs', () => {
    const j = record(steal('alice'));
    assert.equal(sessionOf(j), undefined, 'its pod not read: no session');
    assert.equal(sessionOf(j, pods(pod({}))), undefined, 'the container not added (yet)');
    assert.equal(sessionOf(j, pods(pod({ 'podlink-agent-alice': { waiting: { reason: 'ContainerCreating' } } }))), undefined, 'not running yet');
    assert.equal(sessionOf(j, pods(pod({ 'podlink-agent-alice': { terminated: { exitCode: 0, reason: 'Completed' } } }))), undefined, 'exited after its grace period');
    assert.equal(sessionOf(j, pods(pod({ 'podlink-agent-bob': running }))), undefined, 'another agent runs, not this one');
    assert.equal(sessionOf(j, new Map([['service-a-other', { ...pod({ 'podlink-agent-alice': running }), metadata: { name: 'service-a-other' } }]])), undefined,
      'a container of that name in another pod');
    assert.equal(sessionOf(record(steal('alice'), 'x'), pods(pod({ x: running })))?.agent, 'x');
    assert.equal(sessionOf({ ...j, metadata: { ...j.metadata, deletionTimestamp: new Date() } }, pods(pod({ 'podlink-agent-alice': running }))), undefined, 'being deleted');
  });

  it('should tell a running ephemeral container from one that is not, in a pod or none', () => {
    assert.equal(ephemeralRunning(pod({ a: running }), 'a'), true);
    assert.equal(ephemeralRunning(pod({ a: { terminated: { exitCode: 137 } } }), 'a'), false);
    assert.equal(ephemeralRunning(undefined, 'a'), false);
    assert.equal(ephemeralRunning({ metadata: { name: 'p' } }, 'a'), false, 'no status yet');
  });

  it('should be held against a steal by the early check like an agent Job', () => {
    const j = record(steal('alice'));
    j.metadata!.annotations!['podlink.dev/ports'] = '8080';
    const s = sessionOf(j, pods(pod({ 'podlink-agent-alice': running })))!;
    const carol = incomingSettings({ mode: 'steal', http_filter: {}, port_mapping: [], ignore_ports: [], ignore_localhost: false, on_concurrent_steal: 'abort' } as Parameters<typeof incomingSettings>[0],
      { user: 'carol', host: 'carol-laptop' });
    assert.match(heldPortConflict(carol, [s], 'service-a-7d9f')!, /^port 8080 is shared by HTTP filters of alice@alice-laptop /);
  });
});

describe('podlink sessions output', () => {
  const alice = listening(steal('alice'), '8080');
  const bob = listening(steal('bob'), '8080');
  const mirror = sessionOf(job({ ...steal('carol'), target: 'pod/service-a-7d9f', incoming: { mode: 'mirror', filter: wireFilter({}) } }))!;

  it('should print one aligned row per session with a header', () => {
    const text = sessionsTable([alice, bob, mirror], T0 + 125_000);
    assert.equal(text, [
      'USER                KUBE USER  TARGET                MODE    FILTER                      PORTS  SINCE',
      'alice@alice-laptop  alice      deployment/service-a  steal   header ^X-Dev-User: alice$  8080   2026-11-29 23:40:01 UTC (2 min ago)',
      'bob@bob-laptop      bob        deployment/service-a  steal   header ^X-Dev-User: bob$    8080   2026-11-29 23:40:01 UTC (2 min ago)',
      'carol@carol-laptop  carol      pod/service-a-7d9f    mirror  -                           -      2026-11-29 23:40:01 UTC (2 min ago)',
    ].join('\n') + '\n');
  });

  it('should say how long ago in s, min or h', () => {
    assert.match(sinceText('2026-11-29T23:40:01.250Z', T0 + 9_000), /\(9 s ago\)$/);
    assert.match(sinceText('2026-11-29T23:40:01.250Z', T0 + 3_725_000), /\(1 h 2 min ago\)$/);
    assert.equal(sinceText('', T0), '?');
  });

  it('should give every field in JSON, null where there is nothing', () => {
    assert.deepEqual(sessionsJson([alice, mirror]), [
      { user: 'alice', host: 'alice-laptop', kubeUser: 'alice', namespace: 'default', target: 'deployment/service-a', pod: 'service-a-7d9f', mode: 'steal',
        filter: 'header ^X-Dev-User: alice$', filterPorts: null, ports: [8080], since: '2026-11-29T23:40:01.250Z', agent: 'podlink-agent-alice', ephemeral: false },
      { user: 'carol', host: 'carol-laptop', kubeUser: 'carol', namespace: 'default', target: 'pod/service-a-7d9f', pod: 'service-a-7d9f', mode: 'mirror',
        filter: null, filterPorts: null, ports: [], since: '2026-11-29T23:40:01.250Z', agent: 'podlink-agent-carol', ephemeral: false },
    ]);
  });

  it('should pick the sessions on a target by its path or by the pod their agent serves', () => {
    const elsewhere = sessionOf(job({ ...steal('dave'), target: 'deployment/service-b', pod: 'service-b-1' }))!;
    const names = (l: ListedSession[]) => l.map((s) => s.user);
    assert.deepEqual(names(onTarget([alice, mirror, elsewhere], 'deployment/service-a', new Set(['service-a-7d9f']))), ['alice', 'carol']);
    assert.deepEqual(names(onTarget([alice, mirror, elsewhere], 'deployment/service-a', new Set())), ['alice'], 'by path when no pod is up');
    assert.deepEqual(names(onTarget([alice, mirror, elsewhere], 'pod/service-b-1', new Set(['service-b-1']))), ['dave']);
    assert.deepEqual(names(onTarget([alice], 'deployment/service-a/container/app', new Set())), ['alice']);
  });
});

describe('the early conflict check', () => {
  const config = (over: Record<string, unknown> = {}) => incomingSettings({
    mode: 'steal', http_filter: {}, port_mapping: [], ignore_ports: [], ignore_localhost: false, on_concurrent_steal: 'abort', ...over,
  } as Parameters<typeof incomingSettings>[0], { user: 'carol', host: 'carol-laptop' });
  const alice = listening(steal('alice'), '8080');
  const bob = listening(steal('bob'), '8080');
  const pod = 'service-a-7d9f';

  /** The agent's own line for the same situation (dispatcher.ts), `since` aside. */
  function agentLine(port: number, mine: ReturnType<typeof config>, others: ListedSession[]): string | undefined {
    const sub = (wire: Subscriber['wire'], user: string, host: string, since: number): Subscriber => {
      const f = compileFilter(wire);
      return { session: undefined as never, wire, describe: describeFilter(wire), owner: { user, host, since }, ...(f ? { filter: f } : {}) };
    };
    return conflict(port, sub(mine.filter, 'carol', 'carol-laptop', Date.now()), others.map((o) => sub(filterOn(o, port), o.user, o.host, Date.parse(o.since))));
  }

  it('should refuse an unfiltered steal where filters share the port, naming them, as the agent would', () => {
    const why = heldPortConflict(config(), [alice, bob], pod);
    assert.equal(why, agentLine(8080, config(), [alice, bob]));
    assert.match(why!, /^port 8080 is shared by HTTP filters of alice@alice-laptop \(header \^X-Dev-User: alice\$, since 23:40:01 UTC\), bob@bob-laptop \(header \^X-Dev-User: bob\$, since 23:40:01 UTC\): an unfiltered steal would take their requests; steal with an http_filter of your own$/);
  });

  it('should refuse the very filter of another session, and a filter where a session steals the port whole', () => {
    const same = config({ http_filter: { header_filter: '^X-Dev-User: alice$' } });
    assert.match(heldPortConflict(same, [alice, bob], pod)!, /^port 8080 is already filtered by alice@alice-laptop .* with the same filter/);
    const whole = listening({ ...steal('erin'), incoming: { mode: 'steal', filter: wireFilter({}) } }, '8080');
    assert.match(heldPortConflict(config({ http_filter: { header_filter: '^X-Dev-User: carol$' } }), [whole], pod)!, /^port 8080 is stolen whole by erin@erin-laptop/);
  });

  it('should let a filter of its own in, and leave alone what it would not conflict with', () => {
    assert.equal(heldPortConflict(config({ http_filter: { header_filter: '^X-Dev-User: carol$' } }), [alice, bob], pod), undefined);
    assert.equal(heldPortConflict(config(), [alice, bob], 'service-a-other'), undefined, 'another pod of the deployment');
    assert.equal(heldPortConflict(config({ mode: 'mirror' }), [alice, bob], pod), undefined, 'mirror takes nothing from anyone');
    assert.equal(heldPortConflict(config({ on_concurrent_steal: 'continue' }), [alice, bob], pod), undefined, 'continue: the port would stay local');
    assert.equal(heldPortConflict(config({ ports: [9090] }), [alice, bob], pod), undefined, 'incoming.ports leaves 8080 local');
    assert.equal(heldPortConflict(config({ ignore_ports: [8080] }), [alice, bob], pod), undefined);
    assert.equal(heldPortConflict(config({ port_mapping: [[8080, 9090]] }), [alice, bob], pod), undefined, 'the app\'s 8080 is the target\'s 9090');
    assert.equal(heldPortConflict(config({ http_filter: { header_filter: 'x', ports: [9090] } }), [alice, bob], pod), agentLine(8080, config(), [alice, bob]),
      'http_filter.ports: unfiltered on 8080');
    const noPortYet = sessionOf(job(steal('frank', wireFilter({}))))!;
    assert.equal(heldPortConflict(config({ http_filter: { header_filter: 'x' } }), [noPortYet], pod), undefined, 'its app listens on nothing yet: the agent decides');
  });

  it('should find the port through port_mapping', () => {
    assert.equal(heldPortConflict(config({ port_mapping: [[3000, 8080]] }), [alice], pod), agentLine(8080, config(), [alice]));
  });
});
