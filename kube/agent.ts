/**
 * The agent's life on the cluster: create it (a Job, or an ephemeral container of the target pod),
 * wait until its container runs — watching the pod and its events, failing at once on a hopeless
 * state instead of waiting for the timeout — and delete it.
 *
 * Flow of startAgent for a Job:
 *   watch pods labelled podlink.dev/agent=<name>, and events of job <name>   (before creating, so
 *   nothing is missed: a watch without resourceVersion starts with the objects that exist)
 *   → create the Job → onCreated → the pod appears (events of the pod are watched from then on)
 *   → Pulling… → container running → resolve.
 *   Any failure, the timeout or an abort: delete the Job (its pod goes with it), then throw.
 *
 * Ephemeral agents cannot be removed (Kubernetes keeps ephemeral containers for the pod's life): the
 * agent exits by itself when its link is gone. Their session is recorded on a Job that runs nothing
 * (recordJob, created before the container is added); deleteAgent deletes that record.
 */
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { call } from './call.js';
import type { Kube } from './client.js';
import { agentState, eventMeaning, startingText, containerStatus, type AgentWhere } from './agent-status.js';
import { AGENT_CONTAINER, AGENT_LABEL, agentJob, agentName, ephemeralAgentContainer, recordJob, type AgentOptions } from './agent-spec.js';
import { KubeError, apiError, httpStatus, unreachable } from './errors.js';
import { staleRecords } from './sessions.js';
import type { PodTarget } from './target.js';

export type { AgentOptions } from './agent-spec.js';

export interface AgentPod {
  namespace: string;
  /** The agent's pod (for an ephemeral agent: the target pod). Empty in onCreated for a Job until its pod exists. */
  pod: string;
  container: string;
  /** The agent's Job; for an ephemeral agent, its session record (a Job that runs nothing, named as the container). */
  job?: string;
  ephemeral: boolean;
  nodeName: string;
}

export interface AgentHooks {
  /** Called as soon as something exists in the cluster that deleteAgent must remove. */
  onCreated?(ref: AgentPod): void;
  onProgress?(text: string): void;
  signal?: AbortSignal;
}

/** Watches one API path until stopped; restarts it when the server ends it. Errors go to onError. */
class Watcher {
  private controller: AbortController | undefined;
  private stopped = false;
  constructor(
    private readonly kube: Kube,
    private readonly path: string,
    private readonly query: Record<string, string>,
    private readonly onObject: (type: string, obj: any) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  async start(): Promise<void> {
    if (this.stopped) return;
    const controller = await new Watch(this.kube.kc).watch(this.path, this.query, (type, obj) => {
      if (!this.stopped) this.onObject(type, obj);
    }, (err) => {
      if (this.stopped) return;
      if (err && (err as { name?: string }).name !== 'AbortError') {
        const status = (err as { statusCode?: number }).statusCode;
        this.onError(status !== undefined ? { code: status, body: undefined } : err);
        return;
      }
      // The server closed the watch (timeout, restart): watch again, starting from now.
      setTimeout(() => void this.start().catch(this.onError), 200);
    });
    if (this.stopped) controller.abort();
    else this.controller = controller;
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }
}

/** Resolves/rejects once; the waiting machinery of one startAgent. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A failure can arrive before anyone awaits (a watch error during creation): not unhandled.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

export async function startAgent(kube: Kube, target: PodTarget | undefined, opts: AgentOptions, hooks: AgentHooks = {}): Promise<AgentPod> {
  if (opts.ephemeral) {
    if (!target) {
      throw new KubeError('KUBE_AGENT_FAILED', 'agent.ephemeral needs a target: a targetless session has no pod to add the agent to', 'remove agent.ephemeral, or give a target');
    }
    return startEphemeral(kube, target, opts, hooks);
  }
  return startJob(kube, target, opts, hooks);
}

async function startJob(kube: Kube, target: PodTarget | undefined, opts: AgentOptions, hooks: AgentHooks): Promise<AgentPod> {
  const name = agentName();
  const namespace = opts.namespace ?? target?.namespace ?? kube.namespace;
  const progress = (t: string) => hooks.onProgress?.(t);
  const where: AgentWhere & { job: string } = { namespace, pod: '', container: AGENT_CONTAINER, image: opts.image, job: name };
  const done = deferred<V1Pod>();
  let lastPod: V1Pod | undefined;
  let podEvents: Watcher | undefined;
  const watchers: Watcher[] = [];

  const onPod = (type: string, pod: V1Pod) => {
    if (type === 'DELETED' && pod.metadata?.name === where.pod) {
      done.reject(new KubeError('KUBE_AGENT_FAILED', `the agent pod ${namespace}/${where.pod} was deleted before it ran`, 'something else deleted it (a policy, a controller, a user); try again'));
      return;
    }
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    if (!where.pod) {
      if (finished) return;
      where.pod = pod.metadata?.name ?? '';
      progress(`agent pod ${where.pod} created${pod.spec?.nodeName ? ` on node ${pod.spec.nodeName}` : ''}`);
      podEvents = new Watcher(kube, `/api/v1/namespaces/${namespace}/events`, { fieldSelector: `involvedObject.name=${where.pod}` }, onEvent, onWatchError('events'));
      watchers.push(podEvents);
      void podEvents.start().catch(onWatchError('events'));
    }
    if (pod.metadata?.name !== where.pod) return;
    lastPod = pod;
    const s = agentState(pod, where, false);
    if (s.state === 'running') done.resolve(pod);
    else if (s.state === 'failed') done.reject(s.error);
  };
  const onEvent = (type: string, ev: CoreV1Event) => {
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    const m = eventMeaning(ev, where);
    if (m.error) done.reject(m.error);
    else if (m.progress) progress(m.progress);
  };
  const onWatchError = (what: string) => (err: unknown) => {
    done.reject(apiError(err, kube, { verb: 'watch', resource: what, namespace }));
  };

  watchers.push(new Watcher(kube, `/api/v1/namespaces/${namespace}/pods`, { labelSelector: `${AGENT_LABEL}=${name}` }, onPod, onWatchError('pods')));
  watchers.push(new Watcher(kube, `/api/v1/namespaces/${namespace}/events`, { fieldSelector: `involvedObject.name=${name}` }, onEvent, onWatchError('events')));
  let finished = false;
  const stopAll = () => {
    finished = true;
    watchers.forEach((w) => w.stop());
  };

  let created = false;
  const cleanup = async () => {
    stopAll();
    if (created) await deleteAgent(kube, { namespace, pod: where.pod, job: name, ephemeral: false }).catch(() => undefined);
  };
  try {
    aborted(hooks.signal);
    const body = agentJob(name, namespace, target, opts);
    await settled([
      ...watchers.map((w) => w.start()),
      call(kube, { verb: 'create', resource: 'jobs', namespace, group: 'batch' }, () => kube.batch.createNamespacedJob({ namespace, body })).then(() => {
        created = true;
        hooks.onCreated?.({ namespace, pod: '', container: AGENT_CONTAINER, job: name, ephemeral: false, nodeName: target?.nodeName ?? '' });
        progress(`agent job ${name} created in namespace ${namespace}`);
      }),
    ]);
    const pod = await waitFor(done.promise, opts, hooks.signal, () => timeoutError(where, lastPod, false, opts.startupTimeoutMs));
    stopAll();
    progress(`agent container running in pod ${where.pod}`);
    return { namespace, pod: where.pod, container: AGENT_CONTAINER, job: name, ephemeral: false, nodeName: pod.spec?.nodeName ?? '' };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function startEphemeral(kube: Kube, target: PodTarget, opts: AgentOptions, hooks: AgentHooks): Promise<AgentPod> {
  const name = agentName();
  const { namespace, pod } = target;
  const progress = (t: string) => hooks.onProgress?.(t);
  const where: AgentWhere = { namespace, pod, container: name, image: opts.image };
  const done = deferred<V1Pod>();
  let lastPod: V1Pod | undefined;
  const onWatchError = (what: string) => (err: unknown) => done.reject(apiError(err, kube, { verb: 'watch', resource: what, namespace }));
  const podWatch = new Watcher(kube, `/api/v1/namespaces/${namespace}/pods`, { fieldSelector: `metadata.name=${pod}` }, (type: string, p: V1Pod) => {
    if (type === 'DELETED') {
      done.reject(new KubeError('KUBE_AGENT_FAILED', `the target pod ${namespace}/${pod} was deleted while the agent started in it`, 'try again; podlink picks another pod'));
      return;
    }
    if (!containerStatus(p, name, true) && !(p.spec?.ephemeralContainers ?? []).some((c) => c.name === name)) return;
    lastPod = p;
    const s = agentState(p, where, true);
    if (s.state === 'running') done.resolve(p);
    else if (s.state === 'failed') done.reject(s.error);
  }, onWatchError('pods'));
  // Events of the target pod are about all its containers; only those naming ours count.
  const eventWatch = new Watcher(kube, `/api/v1/namespaces/${namespace}/events`, { fieldSelector: `involvedObject.name=${pod}` }, (type: string, ev: CoreV1Event) => {
    if ((type !== 'ADDED' && type !== 'MODIFIED') || !(ev.involvedObject?.fieldPath ?? '').includes(`{${name}}`)) return;
    const m = eventMeaning(ev, where);
    if (m.progress) progress(m.progress);
  }, onWatchError('events'));
  const stopAll = () => {
    podWatch.stop();
    eventWatch.stop();
  };
  const ref: AgentPod = { namespace, pod, container: name, job: name, ephemeral: true, nodeName: target.nodeName };
  let recorded = false;
  try {
    aborted(hooks.signal);
    // The record first: it counts only once the container runs, and goes if the container is never added.
    const record = recordJob(name, target, opts);
    await call(kube, { verb: 'create', resource: 'jobs', namespace, group: 'batch' }, () => kube.batch.createNamespacedJob({ namespace, body: record }));
    recorded = true;
    hooks.onCreated?.(ref);
    progress(`session record job ${name} created in namespace ${namespace} (it runs nothing)`);
    const body = { spec: { ephemeralContainers: [ephemeralAgentContainer(name, target, opts)] } };
    await settled([
      podWatch.start(),
      eventWatch.start(),
      call(kube, { verb: 'patch', resource: 'pods/ephemeralcontainers', namespace, name: pod },
        () => kube.core.patchNamespacedPodEphemeralcontainers({ name: pod, namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)),
        `pod/${pod} not found in namespace ${namespace} (or this cluster has no ephemeral containers)`).then(() => {
        progress(`agent added to pod ${pod} as ephemeral container ${name}`);
      }),
    ]);
    const running = await waitFor(done.promise, opts, hooks.signal, () => timeoutError(where, lastPod, true, opts.startupTimeoutMs));
    stopAll();
    progress(`agent container ${name} running in pod ${pod}`);
    await pruneRecords(kube, running, progress);
    return ref;
  } catch (err) {
    stopAll();
    if (recorded) await deleteAgent(kube, ref).catch(() => undefined);
    throw err;
  }
}

/**
 * Deletes the records that sessions killed outright left in this pod (staleRecords: their ephemeral
 * container has exited). Best effort: a record that stays is not listed anyway, and goes with the pod.
 */
async function pruneRecords(kube: Kube, pod: V1Pod, progress: (t: string) => void): Promise<void> {
  const namespace = pod.metadata?.namespace ?? '';
  try {
    const jobs = await kube.batch.listNamespacedJob({ namespace, labelSelector: AGENT_LABEL });
    const stale = staleRecords(jobs.items, pod);
    await Promise.all(stale.map((job) => deleteAgent(kube, { namespace, pod: pod.metadata?.name ?? '', job, ephemeral: true })));
    if (stale.length) progress(`removed ${stale.length} session record(s) of earlier ephemeral agents that have exited: ${stale.join(', ')}`);
  } catch {
    // (listing or deleting not allowed, or the API server slow: the records stay, unlisted)
  }
}

/** Like Promise.all, but waits for every promise first: a create that succeeds after a watch failed is still known. */
async function settled(ps: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(ps);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

function aborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new KubeError('KUBE_ABORTED', 'starting the agent was interrupted');
}

function timeoutError(w: AgentWhere, pod: V1Pod | undefined, ephemeral: boolean, ms: number): KubeError {
  const last = pod ? startingText(pod, containerStatus(pod, w.container, ephemeral)) : 'no pod created yet';
  const name = w.pod ? `${w.namespace}/${w.pod}` : `in namespace ${w.namespace}`;
  return new KubeError('KUBE_AGENT_TIMEOUT', `the agent (pod ${name}, image ${w.image}) was not running after ${Math.round(ms / 100) / 10} s: ${last}`,
    'raise agent.startup_timeout, or see why with `kubectl describe pod`');
}

/** `p`, or the timeout's error, or KUBE_ABORTED when `signal` fires. */
async function waitFor<T>(p: Promise<T>, opts: AgentOptions, signal: AbortSignal | undefined, onTimeout: () => KubeError): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), opts.startupTimeoutMs);
        if (signal) {
          onAbort = () => reject(new KubeError('KUBE_ABORTED', 'starting the agent was interrupted'));
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** How long deleteAgent waits for the API server before giving up with KUBE_UNREACHABLE. */
const DELETE_TIMEOUT_MS = 15_000;

/**
 * Deletes the agent's Job; its pod goes with it (background propagation, grace period 1 s). For an
 * ephemeral agent, which cannot be deleted, its session record (the container exits by itself once
 * its link is gone). Idempotent: a Job that is already gone is fine.
 */
export async function deleteAgent(kube: Kube, ref: Pick<AgentPod, 'namespace' | 'pod' | 'job' | 'ephemeral'>): Promise<void> {
  if (!ref.job) return;
  const { namespace, job: name } = ref;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unreachable(kube, `no answer to deleting job ${namespace}/${name} within ${DELETE_TIMEOUT_MS / 1000} s`)), DELETE_TIMEOUT_MS);
  });
  try {
    await Promise.race([
      kube.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' }).catch((err) => {
        if (httpStatus(err) === 404) return;
        throw apiError(err, kube, { verb: 'delete', resource: 'jobs', namespace, name, group: 'batch' });
      }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
