import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { namespaceProblem } from '../../kube/names.js';
import { PodlinkError } from '../errors.js';

/** What the commands that read the cluster and print a list (`ls`, `sessions`) share: how to reach it, and the output form. */
export abstract class KubeQueryCommand extends Command {
  kubeContext = Option.String('--context', { description: 'kubeconfig context to use' });
  kubeconfig = Option.String('--kubeconfig', { description: 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config)' });
  output = Option.String('-o,--output', { description: 'text (default) or json', validator: t.isEnum(['text', 'json']) });

  /** A namespace given with -n that cannot be one: a PodlinkError. */
  protected checkNamespace(namespace: string | undefined): void {
    if (namespace === undefined) return;
    const problem = namespaceProblem(namespace);
    if (problem) throw new PodlinkError('KUBE_NAMESPACE', problem, 'give a namespace name like `default` or `team-a`');
  }
}
