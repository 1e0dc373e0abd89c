/**
 * Cluster access: which kubeconfig, which context, which namespace — as kubectl picks them — and
 * the API clients of @kubernetes/client-node made from that. Every other file in kube/ takes a
 * `Kube` and never reads a kubeconfig itself.
 *
 * kubeconfig: `sel.kubeconfig`, else `KUBECONFIG` (a colon-separated list merged as kubectl merges
 * it: the first file to define a name or the current context wins, missing files are skipped),
 * else `~/.kube/config`, else the in-cluster service account when running in a pod. Exec and OIDC
 * auth plugins run as client-node runs them, on the first call.
 */
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import {
  ApisApi,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  ServerConfiguration,
  createConfiguration,
  type ApiConstructor,
  type ApiType,
  type Middleware,
  type RequestContext,
} from '@kubernetes/client-node';
import { KubeError, type Endpoint } from './errors.js';

export interface KubeSelection {
  /** `--kubeconfig FILE` / the config's `kubeconfig` key. */
  kubeconfig?: string;
  /** `--context` / `kube_context`. */
  context?: string;
  /** `-n` / `target.namespace`; default: the context's namespace, then `default`. */
  namespace?: string;
}

export interface Kube extends Endpoint {
  kc: KubeConfig;
  /** The context in use. */
  context: string;
  /** The kubeconfig's user entry of that context (the API server may know it by another name). */
  user: string;
  /** API server URL. */
  server: string;
  /** Namespace for targets and agents unless told otherwise. */
  namespace: string;
  /** Where the kubeconfig came from, for messages: a path, a `KUBECONFIG` list or `in-cluster`. */
  source: string;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  custom: CustomObjectsApi;
  apis: ApisApi;
  objects: KubernetesObjectApi;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** No answer from the API server within this long is "unreachable" (a dropped VPN, a firewall). */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Middleware of every API client of one Kube:
 *  - one keep-alive connection pool instead of client-node's new https.Agent (so a new TCP + TLS
 *    handshake) per request — three round trips less per call on a distant cluster. Rebuilt when
 *    the credentials in the agent change (an exec plugin's rotated client certificate); proxy
 *    agents are left alone.
 *  - a deadline, so a server that never answers becomes KUBE_UNREACHABLE instead of a hang.
 */
function clientMiddleware(): Middleware {
  let pooled: https.Agent | undefined;
  let key = '';
  // client-node reads the credentials afresh for every request: compare contents, not objects.
  const text = (v: unknown): string => (v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('base64') : Array.isArray(v) ? v.map(text).join(',') : String(v));
  return {
    async pre(ctx: RequestContext) {
      const made = ctx.getAgent();
      if (made && made.constructor === https.Agent) {
        const o = (made as https.Agent).options;
        const k = [o.ca, o.cert, o.key, o.pfx, o.rejectUnauthorized, o.servername].map(text).join('|');
        if (!pooled || k !== key) {
          pooled?.destroy();
          pooled = new https.Agent({ ...o, keepAlive: true });
          key = k;
        }
        ctx.setAgent(pooled);
      }
      ctx.setSignal(AbortSignal.timeout(REQUEST_TIMEOUT_MS));
      return ctx;
    },
    async post(res) {
      return res;
    },
  };
}

/** Like kc.makeApiClient, with clientMiddleware. */
function apiClients(kc: KubeConfig, server: string) {
  const middleware = clientMiddleware();
  const make = <T extends ApiType>(api: ApiConstructor<T>): T =>
    new api(createConfiguration({ baseServer: new ServerConfiguration(server, {}), authMethods: { default: kc }, promiseMiddleware: [middleware] }));
  return {
    core: make(CoreV1Api),
    apps: make(AppsV1Api),
    batch: make(BatchV1Api),
    custom: make(CustomObjectsApi),
    apis: make(ApisApi),
  };
}

/** Reads one kubeconfig file, or throws the one line naming it. */
function readKubeconfig(file: string, how: string): KubeConfig {
  const kc = new KubeConfig();
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new KubeError('KUBE_CONFIG', `kubeconfig ${file} (${how}) does not exist`, 'give an existing file with --kubeconfig, or set KUBECONFIG');
    throw new KubeError('KUBE_CONFIG', `cannot read kubeconfig ${file} (${how}): ${code ?? (err as Error).message}`, 'check the file and its permissions');
  }
  try {
    kc.loadFromString(text);
    kc.makePathsAbsolute(path.dirname(file));
  } catch (err) {
    const msg = ((err as Error).message ?? String(err)).split('\n')[0];
    throw new KubeError('KUBE_CONFIG', `kubeconfig ${file} (${how}) is not valid: ${msg}`, 'compare it with `kubectl config view`');
  }
  if (text.trim() !== '' && kc.contexts.length === 0 && kc.clusters.length === 0 && kc.users.length === 0 && !kc.currentContext) {
    throw new KubeError('KUBE_CONFIG', `kubeconfig ${file} (${how}) is not valid: it defines no clusters, users or contexts`, 'compare it with `kubectl config view`');
  }
  return kc;
}

/** kubectl's merge: the first file that defines a cluster, user, context or current context wins. */
function mergeFirstWins(into: KubeConfig, from: KubeConfig): void {
  if (!into.currentContext && from.currentContext) into.currentContext = from.currentContext;
  for (const c of from.clusters) if (!into.clusters.some((x) => x.name === c.name)) into.clusters.push(c);
  for (const u of from.users) if (!into.users.some((x) => x.name === u.name)) into.users.push(u);
  for (const c of from.contexts) if (!into.contexts.some((x) => x.name === c.name)) into.contexts.push(c);
}

function loadConfig(sel: KubeSelection, env: NodeJS.ProcessEnv): { kc: KubeConfig; source: string } {
  if (sel.kubeconfig) return { kc: readKubeconfig(sel.kubeconfig, '--kubeconfig'), source: sel.kubeconfig };
  const list = env.KUBECONFIG;
  if (list) {
    const files = list.split(path.delimiter).filter(Boolean);
    const present = files.filter((f) => fs.existsSync(f));
    if (present.length === 0) {
      throw new KubeError('KUBE_CONFIG', `no kubeconfig: none of the files in KUBECONFIG exists (${files.join(path.delimiter)})`, 'fix KUBECONFIG, or give a file with --kubeconfig');
    }
    const kc = readKubeconfig(present[0]!, 'from KUBECONFIG');
    for (const f of present.slice(1)) mergeFirstWins(kc, readKubeconfig(f, 'from KUBECONFIG'));
    return { kc, source: present.length === 1 ? present[0]! : `KUBECONFIG=${list}` };
  }
  const home = env.HOME || os.homedir();
  const file = path.join(home, '.kube', 'config');
  if (fs.existsSync(file)) return { kc: readKubeconfig(file, 'the default'), source: file };
  if (fs.existsSync(SERVICE_ACCOUNT_TOKEN) && env.KUBERNETES_SERVICE_HOST) {
    const kc = new KubeConfig();
    kc.loadFromCluster();
    return { kc, source: 'in-cluster' };
  }
  throw new KubeError('KUBE_CONFIG', `no kubeconfig: ${file} does not exist and KUBECONFIG is not set`, 'give one with --kubeconfig, set KUBECONFIG, or create ~/.kube/config');
}

function contextList(kc: KubeConfig): string {
  const names = kc.contexts.map((c) => c.name);
  return names.length ? names.join(', ') : 'none';
}

/** Loads the kubeconfig and picks context and namespace; makes no call to the cluster. */
export function loadKube(sel: KubeSelection, env: NodeJS.ProcessEnv = process.env): Kube {
  const { kc, source } = loadConfig(sel, env);
  let context = sel.context;
  if (context !== undefined) {
    if (!kc.getContextObject(context)) {
      throw new KubeError('KUBE_CONTEXT', `unknown context ${context} in kubeconfig ${source}; known contexts: ${contextList(kc)}`, 'pick one of them with --context');
    }
  } else {
    context = kc.currentContext || undefined;
    if (!context) throw new KubeError('KUBE_CONTEXT', `kubeconfig ${source} sets no current-context; known contexts: ${contextList(kc)}`, 'pick one with --context, or `kubectl config use-context NAME`');
    if (!kc.getContextObject(context)) {
      throw new KubeError('KUBE_CONTEXT', `the current-context ${context} of kubeconfig ${source} is not defined in it; known contexts: ${contextList(kc)}`, 'pick one with --context, or `kubectl config use-context NAME`');
    }
  }
  kc.setCurrentContext(context);
  const ctx = kc.getContextObject(context)!;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeError('KUBE_CONFIG', `context ${context} names cluster ${ctx.cluster}, which kubeconfig ${source} does not define`, 'fix the kubeconfig (`kubectl config view`)');
  if (ctx.user && !kc.getCurrentUser()) {
    throw new KubeError('KUBE_CONFIG', `context ${context} names user ${ctx.user}, which kubeconfig ${source} does not define`, 'fix the kubeconfig (`kubectl config view`)');
  }
  return {
    kc,
    context,
    user: ctx.user || '(none)',
    server: cluster.server,
    namespace: sel.namespace || ctx.namespace || 'default',
    source,
    ...apiClients(kc, cluster.server),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}
