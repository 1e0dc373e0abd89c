// Shared by the tests that run against the real test cluster (testcluster/). scripts/test.sh boots
// the cluster before node --test and points PODLINK_CLUSTER_ENV at the facts file `up` writes.
//
// Network rule: the machine's own netns has a default route out of the machine, so anything that
// talks to a cluster address from outside a pod (the API server included) runs inside the laptop
// netns, which has no default route. Every kubectl call here goes through nsenter for that reason.
import { spawn, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const TESTCLUSTER = path.join(REPO, 'testcluster');
const ENV_FILE = process.env.PODLINK_CLUSTER_ENV ?? '/run/podlink-cluster/env';

export interface ClusterEnv {
  kubeconfig: string;
  kubectl: string;
  kubectlCache: string;
  netns: string;
  laptopNetns: string;
  api: string;
  node: string;
  logs: string;
}

/** The running cluster's facts; throws (so the test fails, never skips) when it is not up. */
export function clusterEnv(): ClusterEnv {
  if (!existsSync(ENV_FILE)) {
    const why = process.env.PODLINK_CLUSTER_BOOT_ERROR ?? 'nothing booted it';
    throw new Error(`the test cluster is not up (${ENV_FILE} missing): ${why}. ` +
      'scripts/test.sh boots it; by hand: sudo npm run cluster:up');
  }
  const vars = Object.fromEntries(
    readFileSync(ENV_FILE, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => {
      const i = l.indexOf('=');
      return [l.slice(0, i), l.slice(i + 1)];
    }),
  );
  const get = (k: string) => {
    const v = vars[`PODLINK_CLUSTER_${k}`];
    if (!v) throw new Error(`${ENV_FILE} has no PODLINK_CLUSTER_${k}`);
    return v;
  };
  return {
    kubeconfig: get('KUBECONFIG'), kubectl: get('KUBECTL'), kubectlCache: get('KUBECTL_CACHE'), netns: get('NETNS'), laptopNetns: get('LAPTOP_NETNS'),
    api: get('API'), node: get('NODE'), logs: get('LOGS'),
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws on a failing exit status (tests check content). */
export function run(cmd: string, args: string[], opts: SpawnOptions & { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.on('error', () => undefined); // a child that never reads its stdin may be gone already
    child.stdin!.end(opts.input ?? '');
  });
}

/**
 * The second laptop's netns (testcluster/lib/net.sh, net_laptop2_up): from the env file, or its name
 * on a cluster whose env file predates it. Throws when it does not exist.
 */
export function laptop2Netns(): string {
  const vars = existsSync(ENV_FILE) ? readFileSync(ENV_FILE, 'utf8') : '';
  const name = /^PODLINK_CLUSTER_LAPTOP2_NETNS=(.*)$/m.exec(vars)?.[1] ?? 'kcl-laptop2';
  if (!existsSync(`/run/netns/${name}`)) throw new Error(`the test cluster has no second laptop netns ${name}: run this branch's testcluster/up.sh (it adds it to a cluster that is up)`);
  return name;
}

/** argv that runs `args` inside the laptop netns. */
export function inLaptop(env: ClusterEnv, args: string[]): [string, string[]] {
  return ['nsenter', [`--net=/run/netns/${env.laptopNetns}`, '--', ...args]];
}

/** kubectl with the cluster's kubeconfig, and a discovery cache that is not the user's ~/.kube. */
export function kubectlArgv(env: ClusterEnv): string[] {
  return [env.kubectl, '--kubeconfig', env.kubeconfig, '--cache-dir', env.kubectlCache];
}

/** kubectl from the laptop netns; throws with kubectl's stderr when it fails. */
export async function kubectl(env: ClusterEnv, args: string[], input?: string): Promise<string> {
  const [cmd, argv] = inLaptop(env, [...kubectlArgv(env), ...args]);
  const r = await run(cmd, argv, { input, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

export async function kubectlJson<T = any>(env: ClusterEnv, args: string[]): Promise<T> {
  return JSON.parse(await kubectl(env, [...args, '-o', 'json'])) as T;
}

/** Name of the one Running, Ready pod of a demo deployment (label app=<name>). */
export async function podOf(env: ClusterEnv, app: string, namespace = 'default'): Promise<{ name: string; ip: string }> {
  const list = await kubectlJson(env, ['-n', namespace, 'get', 'pods', '-l', `app=${app}`]);
  const ready = list.items.filter((p: any) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp &&
    p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
  if (ready.length === 0) throw new Error(`no Ready pod with app=${app} in ${namespace}`);
  return { name: ready[0].metadata.name, ip: ready[0].status.podIP };
}

/** Runs a node script inside a pod of the node-app image and parses the JSON it prints. */
export async function nodeInPod<T = any>(env: ClusterEnv, pod: string, script: string): Promise<T> {
  const out = await kubectl(env, ['exec', pod, '--', 'node', '--input-type=module', '-e', script]);
  return JSON.parse(out) as T;
}

/** Polls `check` until it returns a value or `ms` pass; the last error is rethrown. */
export async function eventually<T>(check: () => Promise<T>, ms = 60_000, every = 500): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, every));
    }
  }
}

/** Runs testcluster/up.sh or down.sh as npm would, with extra environment. */
export function clusterScript(script: 'up' | 'down', extraEnv: Record<string, string> = {}): Promise<RunResult> {
  return run('bash', [path.join(TESTCLUSTER, `${script}.sh`)], {
    cwd: REPO, env: { ...process.env, ...extraEnv }, timeoutMs: 20 * 60_000,
  });
}
