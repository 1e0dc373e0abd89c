/** One API call with its failure turned into a KubeError that says what was being done. */
import type { Kube } from './client.js';
import { apiError, type CallSite } from './errors.js';

export async function call<T>(kube: Kube, site: CallSite, fn: () => Promise<T>, notFound?: string, notFoundHint?: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw apiError(err, kube, site, notFound, notFoundHint);
  }
}

/** The hint for "no such target". */
export function lsHint(namespace: string): string {
  return `list what can be targeted with \`podlink ls -n ${namespace}\``;
}
