/**
 * The cluster demo: the main job on the project's own single-node Kubernetes (testcluster/). From a
 * "laptop" network namespace that reaches only the API server, the same small program runs twice —
 * plain, then under `podlink exec -t deployment/service-a` — and prints what it saw: the pod's
 * Secret- and ConfigMap-sourced env, its mounted config file, and service-b's answer by its short
 * name. The cluster is booted first if it is not up (the first build takes a while; later boots
 * ~25 s), and left running afterwards. Needs root.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../common/paths.js';
import { clusterEnv, inLaptop } from '../test/cluster/cluster.js';

const app = path.join(packageRoot, 'demo', 'cluster-app.mjs');
const cli = path.join(packageRoot, 'bin', 'podlink.js');

function run(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => spawn(cmd, args, { stdio: 'inherit', cwd: packageRoot }).once('exit', (code) => resolve(code)));
}

async function main(): Promise<void> {
  const env = clusterEnv();
  console.log(`\n$ node demo/cluster-app.mjs      (on the "laptop": only the API server ${env.api} is reachable)`);
  await run(...inLaptop(env, [process.execPath, app]));
  console.log('\n$ podlink exec -t deployment/service-a -- node demo/cluster-app.mjs');
  const code = await run(...inLaptop(env, [process.execPath, cli, 'exec', '--kubeconfig', env.kubeconfig, '-t', 'deployment/service-a', '--', process.execPath, app]));
  if (code !== 0) throw new Error(`podlink exec exited with ${code}`);
  console.log(`\nThe cluster keeps running: try it yourself from the laptop netns, e.g.
  sudo nsenter --net=/run/netns/${env.laptopNetns} node bin/podlink.js exec --kubeconfig ${env.kubeconfig} -t deployment/service-a -- bash
  sudo nsenter --net=/run/netns/${env.laptopNetns} node bin/podlink.js ls --kubeconfig ${env.kubeconfig}
and stop it with: sudo npm run cluster:down`);
}

main().catch((e: Error) => {
  console.error(`demo: ${e.message}`);
  process.exit(1);
});
