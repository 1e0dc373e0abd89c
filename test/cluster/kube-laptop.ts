// kube/ from the laptop netns, for the kube-* cluster tests: a driver process (kube-driver.ts) runs
// inside netns kcl-laptop — the only place from which the API server may be reached — and answers
// one call at a time. Errors come back as KubeDriverError carrying the code, message, hint and the
// line the CLI would print.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type ClusterEnv, clusterEnv } from './cluster.js';

const DRIVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'kube-driver.js');
const ENV_FILE = process.env.PODLINK_CLUSTER_ENV ?? '/run/podlink-cluster/env';

export type User = 'admin' | 'alice' | 'bob' | 'nobody';

export interface KubeTestEnv extends ClusterEnv {
  /** Kubeconfig of each test user (testcluster/lib/users.sh). */
  kubeconfigs: Record<User, string>;
}

export function kubeTestEnv(): KubeTestEnv {
  const env = clusterEnv();
  const vars = existsSync(ENV_FILE) ? readFileSync(ENV_FILE, 'utf8') : '';
  const get = (u: string) => new RegExp(`^PODLINK_CLUSTER_KUBECONFIG_${u.toUpperCase()}=(.*)$`, 'm').exec(vars)?.[1];
  const dir = path.dirname(env.kubeconfig);
  const kubeconfigs = { admin: env.kubeconfig } as Record<User, string>;
  for (const u of ['alice', 'bob', 'nobody'] as const) {
    kubeconfigs[u] = get(u) ?? path.join(dir, `kubeconfig-${u}`);
    if (!existsSync(kubeconfigs[u])) throw new Error(`the test cluster has no user ${u} (${kubeconfigs[u]} missing): boot it with this branch's testcluster/up.sh`);
  }
  return { ...env, kubeconfigs };
}

export class KubeDriverError extends Error {
  constructor(readonly code: string | undefined, message: string, readonly hint: string | undefined, readonly line: string,
    readonly created: any[] | undefined, readonly progress: string[] | undefined) {
    super(message);
  }
}

export class LaptopKube {
  private child: ChildProcess;
  private next = 1;
  private pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private stderr = '';

  constructor(env: KubeTestEnv) {
    this.child = spawn('nsenter', [`--net=/run/netns/${env.laptopNetns}`, '--', process.execPath, DRIVER], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // No ~/.kube/config or KUBECONFIG of the machine leaks into a test.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' },
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line);
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new KubeDriverError(msg.error.code, msg.error.message, msg.error.hint, msg.error.line, msg.error.created, msg.error.progress));
    });
    this.child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`kube driver exited (${code}): ${this.stderr}`));
      this.pending.clear();
    });
  }

  call<T = any>(op: string, args: Record<string, unknown>): Promise<T> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  close(): void {
    this.child.stdin!.end();
  }
}

/** Runs `fn` and returns the KubeDriverError it throws; fails when it does not throw. */
export async function failure(fn: () => Promise<unknown>): Promise<KubeDriverError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof KubeDriverError) return err;
    throw err;
  }
  throw new Error('expected a failure, got a result');
}
