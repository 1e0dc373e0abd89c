/**
 * The kubelet's HTTP probes of the target keep reaching the target's own app while a session steals
 * their port. A probe answered by the developer's process (or refused while it restarts) would make
 * the kubelet mark the pod unready, which takes it out of its Service — the very traffic being stolen
 * — or restart its container.
 *
 * The CLI reads the target container's liveness, readiness and startup probes and gives the agent the
 * ports of the plain-HTTP ones (PODLINK_PROBE_PORTS). On those ports a request whose User-Agent is the
 * kubelet's (`kube-probe/<version>`) goes to the original app: with an HTTP filter it never matches;
 * stolen whole, each connection's request head is read first (dispatcher.ts). HTTPS, gRPC, TCP and
 * exec probes are not seen here: TCP probes only connect, which the agent's listener answers.
 */
import type { RequestView } from './filter.js';

let ports: ReadonlySet<number> = new Set();

/** Set once, from the agent's environment (agent/main.ts). */
export function setProbePorts(list: readonly number[]): void {
  ports = new Set(list);
}

export function isProbePort(port: number): boolean {
  return ports.has(port);
}

const KUBE_PROBE = /^kube-probe\//;

/** A request the kubelet sent (its User-Agent). */
export function isKubeProbe(view: RequestView): boolean {
  return view.headers.some(([n, v]) => n.length === 10 && n.toLowerCase() === 'user-agent' && KUBE_PROBE.test(v));
}

/** The same, from an HTTP/1 request head as bytes; undefined while its header block is incomplete. */
export function headIsKubeProbe(head: Buffer): boolean | undefined {
  const text = head.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  return /\r\nuser-agent:[ \t]*kube-probe\//i.test(text.slice(0, end + 2));
}
