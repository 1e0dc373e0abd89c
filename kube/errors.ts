/**
 * The failures of kube/: one class, a stable `code` each (match on it, not on the text), a one-line
 * message that names the object, namespace, context or server involved, and a `hint` naming the
 * way out. KubeError is a PodlinkError, so the CLI prints `podlink: <message> (<hint>)` for it.
 *
 * `apiError` turns what @kubernetes/client-node throws (ApiException with the API's Status body, or
 * node-fetch's FetchError for socket and TLS failures) into one of these.
 */
import { PodlinkError } from '../cli/errors.js';

export type KubeErrorCode =
  /** No kubeconfig, or one that cannot be read or parsed (the message names the file). */
  | 'KUBE_CONFIG'
  /** `--context` names a context the kubeconfig does not have, or there is no current context. */
  | 'KUBE_CONTEXT'
  /** The API server cannot be reached: connection refused, no route, DNS, TLS, timeout. */
  | 'KUBE_UNREACHABLE'
  /** 401: the API server did not accept the credentials. */
  | 'KUBE_UNAUTHORIZED'
  /** 403: RBAC forbids a call (the message names user, verb, resource and namespace). */
  | 'KUBE_FORBIDDEN'
  /** The target object does not exist. */
  | 'KUBE_NOT_FOUND'
  /** The target exists but has no Running, Ready pod that is not terminating. */
  | 'KUBE_NO_READY_POD'
  /** `/container/C` names a container the pod does not have. */
  | 'KUBE_CONTAINER_NOT_FOUND'
  /** `rollout/…` in a cluster without the Argo Rollouts CRD. */
  | 'KUBE_ROLLOUTS_NOT_INSTALLED'
  /** The agent image cannot be pulled (ErrImagePull, ImagePullBackOff, ErrImageNeverPull, InvalidImageName). */
  | 'KUBE_AGENT_IMAGE'
  /** The agent pod or container failed: not schedulable, not creatable, exited. */
  | 'KUBE_AGENT_FAILED'
  /** The agent container was not running within agent.startup_timeout. */
  | 'KUBE_AGENT_TIMEOUT'
  /** Starting the agent was aborted (the caller's AbortSignal). */
  | 'KUBE_ABORTED'
  /** Port-forward: nothing listens on the port in the pod yet (the agent is still starting). */
  | 'KUBE_PORTFORWARD_REFUSED'
  /** Port-forward failed or closed for another reason (the message carries the API server's text). */
  | 'KUBE_PORTFORWARD'
  /** Any other answer of the API server (conflict, invalid object, server error). */
  | 'KUBE_API';

export class KubeError extends PodlinkError {
  override name = 'KubeError';
  constructor(
    override readonly code: KubeErrorCode,
    message: string,
    hint?: string,
    /** The HTTP status of the API answer behind this error, when there was one. */
    readonly status?: number,
  ) {
    super(code, message, hint);
  }
}

/** kube/client.ts REQUEST_TIMEOUT_MS, in seconds (not imported: client.ts imports this file). */
const REQUEST_TIMEOUT_S = 30;

export const RBAC_HINT = 'ask your cluster admin for the podlink role in docs/rbac.md';

/** What a failing call was doing, for the message: `get pods/x in namespace y`. */
export interface CallSite {
  verb: string;
  /** Plural resource as RBAC names it: `pods`, `deployments`, `pods/portforward`. */
  resource: string;
  namespace?: string;
  name?: string;
  /** API group for the message when it is not obvious (`argoproj.io`). */
  group?: string;
}

/** Who and where, for messages about the connection. */
export interface Endpoint {
  server: string;
  context: string;
  user: string;
}

/** The parts of an ApiException / FetchError / plain Error this module reads (duck-typed on purpose). */
interface ErrorLike {
  code?: unknown;
  body?: unknown;
  message?: unknown;
  errno?: unknown;
  type?: unknown;
  cause?: unknown;
}

/** The `Status` object the API server sends with a failure, when the body is one. */
export interface ApiStatus {
  message?: string;
  reason?: string;
  code?: number;
}

export function statusOf(body: unknown): ApiStatus | undefined {
  let b = body;
  if (typeof body === 'string') {
    try {
      b = JSON.parse(body);
    } catch {
      return body.trim() ? { message: body.trim().split('\n')[0]! } : undefined;
    }
  }
  if (b && typeof b === 'object') {
    const o = b as Record<string, unknown>;
    const s: ApiStatus = {};
    if (typeof o.message === 'string') s.message = o.message;
    if (typeof o.reason === 'string') s.reason = o.reason;
    if (typeof o.code === 'number') s.code = o.code;
    return s;
  }
  return undefined;
}

/** HTTP status of an ApiException-shaped error, else undefined. */
export function httpStatus(err: unknown): number | undefined {
  const e = err as ErrorLike | undefined;
  return e && typeof e.code === 'number' ? e.code : undefined;
}

/** Socket-level error codes that mean "could not talk to the server at all". */
const SOCKET_CODES = /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|ECONNABORTED|EPROTO|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO|ERR_TLS|ERR_SSL|ERR_SOCKET)/;

/** The socket or TLS failure inside `err`, as text (`connect ECONNREFUSED 127.0.0.1:1`), or undefined. */
export function socketProblem(err: unknown): string | undefined {
  const e = err as ErrorLike | undefined;
  if (!e || typeof e !== 'object') return undefined;
  const code = typeof e.code === 'string' ? e.code : typeof e.errno === 'string' ? e.errno : undefined;
  const isSystem = e.type === 'system' || (code !== undefined && SOCKET_CODES.test(code));
  if (!isSystem) return e.cause ? socketProblem(e.cause) : undefined;
  const msg = typeof e.message === 'string' ? e.message : String(code);
  // node-fetch: "request to https://… failed, reason: connect ECONNREFUSED 127.0.0.1:1"
  const reason = /, reason: (.*)$/s.exec(msg)?.[1] ?? msg;
  return reason.split('\n')[0]!.trim();
}

export function unreachable(at: Endpoint, problem: string): KubeError {
  return new KubeError(
    'KUBE_UNREACHABLE',
    `cannot reach the Kubernetes API server ${at.server} (context ${at.context}): ${problem}`,
    `check that the cluster is up and reachable from here (VPN, network), e.g. \`kubectl --context ${at.context} get ns\``,
  );
}

function where(site: CallSite): string {
  return site.namespace ? ` in namespace ${site.namespace}` : ' (cluster-wide)';
}

/**
 * The error for a failed call at `site`. `notFound` is the message for a 404 (the caller knows
 * what was missing); without it a 404 becomes KUBE_API.
 */
export function apiError(err: unknown, at: Endpoint, site: CallSite, notFound?: string, notFoundHint?: string): KubeError {
  if (err instanceof KubeError) return err;
  const status = httpStatus(err);
  if (status === undefined) {
    const name = (err as { name?: unknown })?.name;
    if (name === 'AbortError' || name === 'TimeoutError') return unreachable(at, `no answer within ${REQUEST_TIMEOUT_S} s to ${site.verb} ${site.resource}`);
    const problem = socketProblem(err);
    if (problem) return unreachable(at, problem);
    const text = err instanceof Error ? err.message : String(err);
    return new KubeError('KUBE_API', `${site.verb} ${site.resource}${where(site)} failed: ${text.split('\n')[0]}`, `context ${at.context}, server ${at.server}`);
  }
  const s = statusOf((err as ErrorLike).body);
  if (status === 401) {
    return new KubeError(
      'KUBE_UNAUTHORIZED',
      `the API server ${at.server} rejected the credentials of user ${at.user} (context ${at.context}): Unauthorized`,
      'log in again or refresh the credentials in your kubeconfig',
      401,
    );
  }
  if (status === 403) {
    // "pods "x" is forbidden: User "nobody" cannot get resource "pods" in API group "" in the namespace "default""
    const m = /User "([^"]*)" cannot (\S+) resource "([^"]*)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]*)")?/.exec(s?.message ?? '');
    if (!m && s?.message && !/cannot \S+ resource/.test(s.message)) {
      // Not RBAC: an admission plugin or policy (Pod Security, a webhook) refused the request.
      return new KubeError('KUBE_FORBIDDEN', `${site.verb} ${site.resource}${site.name ? ` ${site.name}` : ''}${where(site)} was refused: ${s.message}`,
        'a policy of the cluster refused it; ask your cluster admin', 403);
    }
    const user = m?.[1] ?? at.user;
    const verb = m?.[2] ?? site.verb;
    const resource = m?.[3] ?? site.resource;
    const group = m ? m[4] : site.group;
    const ns = m ? m[5] : site.namespace;
    const res = group ? `${resource} (API group ${group})` : resource;
    return new KubeError(
      'KUBE_FORBIDDEN',
      `forbidden: user ${user} cannot ${verb} ${res}${ns ? ` in namespace ${ns}` : ' cluster-wide'} (context ${at.context})`,
      RBAC_HINT,
      403,
    );
  }
  if (status === 404 && notFound) return new KubeError('KUBE_NOT_FOUND', notFound, notFoundHint, 404);
  const detail = s?.message ?? `HTTP ${status}`;
  return new KubeError('KUBE_API', `${site.verb} ${site.resource}${site.name ? ` ${site.name}` : ''}${where(site)} failed: ${detail}`, `context ${at.context}, server ${at.server}`, status);
}
