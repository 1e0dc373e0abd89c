// Incoming traffic on the test cluster, for the incoming-* cluster tests: a podlink session against
// deployment/service-a run from a laptop netns (its app's JSON lines and podlink's events read as they
// come), the pods' network namespaces entered from this machine (which hosts the cluster) to call the
// Service as another pod would and to read a pod's ruleset.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { findContainerPid } from '../../agent/container.js';
import { defaultAgentImage } from '../../agent/image.js';
import { REPO, type ClusterEnv, kubectlJson, laptop2Netns, podOf, run } from './cluster.js';
import type { KubeTestEnv } from './kube-laptop.js';
import { agentPods, podlinkArgv } from './podlink.js';

export const fixtures = path.join(REPO, 'test', 'fixtures', 'incoming');
export const agentImage = process.env['PODLINK_AGENT_IMAGE'] ?? defaultAgentImage();

export interface Session {
  child: ChildProcess;
  app: Record<string, any>[];
  events: Record<string, any>[];
  stderr: string;
  exited: Promise<number | null>;
  waitApp(pred: (v: Record<string, any>) => boolean): Promise<Record<string, any>>;
}

export interface Where {
  /** Network namespace of the "laptop" podlink runs in (default: the cluster's laptop netns). */
  netns?: string;
  /** Its kubeconfig (default: the admin's). */
  kubeconfig?: string;
  /** The machine's name as podlink sees it (a UTS namespace of its own), e.g. `alice-laptop`. */
  hostname?: string;
}

/** The main container's process of a demo app's Running pod, on this machine. */
export async function containerPid(env: ClusterEnv, app: string): Promise<number> {
  const list = await kubectlJson(env, ['get', 'pods', '-l', `app=${app}`]);
  const pod = list.items.find((p: any) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
  return findContainerPid(pod.status.containerStatuses[0].containerID);
}

/** nft and iptables rules of a pod's network namespace (comments left out). */
export async function ruleset(pid: number): Promise<string> {
  const out: string[] = [];
  for (const [cmd, args] of [['nft', ['list', 'ruleset']], ['iptables-save', []], ['ip6tables-save', []]] as const) {
    const r = await run('nsenter', [`--target=${pid}`, '--net', '--', cmd, ...args]);
    assert.equal(r.code, 0, `${cmd} in the pod: ${r.stderr}`);
    out.push(r.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n'));
  }
  return out.join('\n=====\n');
}

/** A caller in the network namespace of the pod whose process is `pid`; its stdout. */
export async function callIn(pid: number, cmd: string, args: string[]): Promise<string> {
  const r = await run('nsenter', [`--target=${pid}`, '--net', '--', cmd, ...args], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** argv of podlink `args` run from `where`. */
export function podlinkIn(env: ClusterEnv, args: string[], where: Where = {}): [string, string[]] {
  const argv = podlinkArgv(env, args, where.kubeconfig ?? env.kubeconfig);
  const named = where.hostname ? ['unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', where.hostname, ...argv] : argv;
  return ['nsenter', [`--net=/run/netns/${where.netns ?? env.laptopNetns}`, '--', ...named]];
}

/**
 * Starts `podlink exec -o json -t deployment/service-a` with `config`, the local app being the fixture
 * app.mjs KIND PORT NAME. With `subscribed` (default) it resolves once the app's port was subscribed.
 */
export async function startSession(env: ClusterEnv, config: unknown, app: [string, number, string], where: Where = {}, subscribed = true): Promise<Session> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-incoming-kube-'));
  const file = path.join(dir, 'podlink.json');
  fs.writeFileSync(file, JSON.stringify(config));
  const args = ['exec', '-o', 'json', '-f', file, '-i', agentImage, '-t', 'deployment/service-a', '--', process.execPath, path.join(fixtures, 'app.mjs'), app[0], String(app[1]), app[2]];
  const [cmd, argv] = podlinkIn(env, args, where);
  const child = spawn(cmd, argv, { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const s: Session = { child, app: [], events: [], stderr: '', exited: new Promise((r) => child.once('exit', (c) => r(c))), waitApp: undefined! };
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    try {
      s.app.push(JSON.parse(l));
    } catch {
      return;
    }
    for (const w of waiters.splice(0)) w();
  });
  let incoming: (v: Record<string, any>) => void = () => undefined;
  createInterface({ input: child.stderr! }).on('line', (l) => {
    s.stderr += `${l}\n`;
    try {
      const v = JSON.parse(l);
      s.events.push(v);
      if (v.event === 'incoming') incoming(v);
    } catch {
      /* not an event */
    }
  });
  s.waitApp = (pred) =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = s.app.find(pred);
        if (hit) resolve(hit);
        else waiters.push(check);
      };
      check();
      void s.exited.then((c) => reject(new Error(`podlink exited (${c}) first: ${s.stderr}`)));
    });
  if (!subscribed) return s;
  const e = await new Promise<Record<string, any>>((resolve, reject) => {
    incoming = resolve;
    void s.exited.then((c) => reject(new Error(`podlink exited (${c}) before the port was subscribed: ${s.stderr}`)));
  });
  if (e['error']) throw new Error(`not subscribed: ${e['error']}`);
  return s;
}

/** Ends a session with Ctrl-C (to its process group) or SIGKILL of the CLI, and waits for it. */
export async function stopSession(s: Session, how: 'end' | 'SIGKILL'): Promise<void> {
  if (how === 'end') process.kill(-s.child.pid!, 'SIGINT');
  else {
    process.kill(s.child.pid!, 'SIGKILL');
    await s.exited;
    process.kill(-s.child.pid!, 'SIGKILL');
  }
  await s.exited;
}

/** What the several-developers tests on service-a start from (alice, bob and carol each on a laptop). */
export interface SharedScene {
  where: Record<'alice' | 'bob' | 'carol', Where>;
  serviceIp: string;
  pod: string;
  podPid: number;
  callerPid: number;
  rulesBefore: string;
}

export async function sharedScene(env: KubeTestEnv): Promise<SharedScene> {
  const k = env.kubeconfigs;
  const podPid = await containerPid(env, 'service-a');
  return {
    where: {
      alice: { netns: env.laptopNetns, kubeconfig: k.alice, hostname: 'alice-laptop' },
      bob: { netns: laptop2Netns(), kubeconfig: k.bob, hostname: 'bob-laptop' },
      carol: { netns: env.laptopNetns, kubeconfig: k.alice, hostname: 'carol-laptop' },
    },
    serviceIp: (await kubectlJson(env, ['get', 'service', 'service-a'])).spec.clusterIP,
    pod: (await podOf(env, 'service-a')).name,
    podPid,
    callerPid: await containerPid(env, 'service-b'),
    rulesBefore: await ruleset(podPid),
  };
}

export { agentPods };
