/** What each target kind file provides: the pods it stands for. */
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../client.js';

export interface Candidates {
  /** Pods the target stands for; the caller picks a ready one. */
  pods: V1Pod[];
  /** Intermediate objects for the description, e.g. `job/nightly-report-28911` for a cronjob. */
  via?: string;
}

export type PodsOf = (kube: Kube, namespace: string, name: string) => Promise<Candidates>;
