import { Command, Option } from 'clipanion';
import { loadKube } from '../../kube/client.js';
import { listTargets } from '../../kube/ls.js';
import { errorLine } from '../errors.js';
import { KubeQueryCommand } from './kube-query.js';

/** `podlink ls`: what can be targeted, one target path per line (mirrord's `ls`). */
export class LsCommand extends KubeQueryCommand {
  static override paths = [['ls']];

  static override usage = Command.Usage({
    description: 'list the targets in a namespace (or every namespace)',
    details: `
      Prints one target path per line, in the form \`podlink exec -t\` takes: running pods (\`pod/NAME\`, or \`pod/NAME/container/C\` for each container of a pod with several), \`deployment/NAME\`, \`statefulset/NAME\`, \`replicaset/NAME\` (ReplicaSets no Deployment owns), \`job/NAME\` (Jobs with a running pod), \`cronjob/NAME\`, \`service/NAME\` (Services with a selector) and, when Argo Rollouts is installed, \`rollout/NAME\`. podlink's own agent pods are left out.

      The namespace is \`-n\`, else the kube context's, else \`default\`. With \`-A\` every namespace is listed and each line starts with its namespace. \`--output json\` prints a JSON array: of paths, or with \`-A\` of \`{ "namespace", "path" }\` objects.

      The kubeconfig is \`--kubeconfig\`, else \`KUBECONFIG\`, else \`~/.kube/config\`. Listing needs the \`list\` permissions of docs/rbac.md. A problem is one line on stderr and exit status 1.
    `,
    examples: [
      ['List the targets of the current namespace', '$0 ls'],
      ['List the targets of namespace staging', '$0 ls -n staging'],
      ['Every namespace, as JSON', '$0 ls -A --output json'],
      ['Another cluster', '$0 ls --context staging-cluster --kubeconfig ~/.kube/staging.yaml'],
    ],
  });

  namespace = Option.String('-n,--namespace', { description: 'namespace to list (default: the context\'s, else default)' });
  allNamespaces = Option.Boolean('-A,--all-namespaces', false, { description: 'list every namespace' });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    try {
      this.checkNamespace(this.namespace);
      const kube = loadKube({ kubeconfig: this.kubeconfig, context: this.kubeContext, namespace: this.namespace });
      const targets = await listTargets(kube, { allNamespaces: this.allNamespaces });
      if (this.output === 'json') {
        stdout.write(`${JSON.stringify(this.allNamespaces ? targets : targets.map((x) => x.path), null, 2)}\n`);
      } else if (this.allNamespaces) {
        const width = Math.max(0, ...targets.map((x) => x.namespace.length));
        for (const x of targets) stdout.write(`${x.namespace.padEnd(width)}  ${x.path}\n`);
      } else {
        for (const x of targets) stdout.write(`${x.path}\n`);
      }
      return 0;
    } catch (err) {
      stderr.write(`${errorLine(err)}\n`);
      return 1;
    }
  }
}
