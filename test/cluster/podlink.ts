// Running podlink itself against the test cluster, from the laptop netns, and checking what it left.
import path from 'node:path';
import { REPO, type ClusterEnv, eventually, kubectlJson } from './cluster.js';

/** argv of `podlink <command> --kubeconfig <the cluster's> <args…>` (wrap it with inLaptop). */
export function podlinkArgv(env: ClusterEnv, args: string[], kubeconfig = env.kubeconfig): string[] {
  const [command, ...rest] = args;
  return [process.execPath, path.join(REPO, 'bin', 'podlink.js'), command!, '--kubeconfig', kubeconfig, ...rest];
}

/** Agent Jobs and pods anywhere in the cluster ("job/NAME", "pod/NAME"), once none is terminating. */
export async function agentPods(env: ClusterEnv, waitMs = 20_000): Promise<string[]> {
  const list = async (): Promise<string[]> => {
    const jobs = await kubectlJson(env, ['get', 'jobs', '-A', '-l', 'app.kubernetes.io/name=podlink-agent']);
    const pods = await kubectlJson(env, ['get', 'pods', '-A', '-l', 'app.kubernetes.io/name=podlink-agent']);
    return [...jobs.items.map((j: any) => `job/${j.metadata.name}`), ...pods.items.map((p: any) => `pod/${p.metadata.name}`)];
  };
  try {
    return await eventually(async () => {
      const left = await list();
      if (left.length > 0) throw new Error(`left: ${left.join(', ')}`);
      return left;
    }, waitMs);
  } catch {
    return list();
  }
}
