import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { execMain } from '../exec.js';

export class ExecCommand extends Command {
  static override paths = [['exec']];

  static override usage = Command.Usage({
    description: "run a command locally, as if it ran inside the target's pod",
    details: `
      The command runs on this machine (your debugger, hot reload and local files keep working), but its DNS lookups, outgoing TCP/UDP connections, environment variables and file reads come from the target's context. Reads of files that exist in the target come from the target; writes stay local (\`--fs-mode\` and \`feature.fs\` change that). Children of the command are covered too.

      A short-lived agent does the work and is gone when the command exits, is interrupted or podlink itself is killed.

      Targets: \`pid/PID\` (a local process, standing in for a pod; needs root). Kubernetes targets (\`pod/NAME\`, \`deployment/NAME\`, …) are not available in this version yet.

      Flags override the config file (\`-f\`, else \`.podlink/podlink.json|yaml|toml\`, else \`.mirrord/mirrord.json\`); the file uses mirrord's keys (see \`podlink verify-config\` and \`podlink schema\`).
    `,
    examples: [
      ['Run a Python service with the environment, DNS and network of process 4242', '$0 exec -t pid/4242 -- python3 app.py'],
      ['Use a team config file', '$0 exec -f .podlink/podlink.json -- npm run dev'],
      ['Keep every file local, but take env, DNS and network from the target', '$0 exec -t pid/4242 --fs-mode local -- node server.js'],
      ['Only the environment: no remote DNS, no outgoing traffic', '$0 exec -t pid/4242 --no-remote-dns --no-outgoing -- env'],
    ],
  });

  target = Option.String('-t,--target', { description: 'what to run as: pid/PID (more kinds to come)' });
  namespace = Option.String('-n,--target-namespace', { description: "the target's Kubernetes namespace" });
  configFile = Option.String('-f,--config-file', { description: 'config file (JSON, YAML or TOML, mirrord keys)' });
  fsMode = Option.String('--fs-mode', {
    description: 'read (default: remote reads, local writes) | write | local | localwithoverrides',
    validator: t.isEnum(['read', 'write', 'local', 'localwithoverrides']),
  });
  noOutgoing = Option.Boolean('--no-outgoing', false, { description: 'keep all outgoing traffic local' });
  noTcpOutgoing = Option.Boolean('--no-tcp-outgoing', false, { description: 'keep outgoing TCP local' });
  noUdpOutgoing = Option.Boolean('--no-udp-outgoing', false, { description: 'keep outgoing UDP local' });
  noRemoteDns = Option.Boolean('--no-remote-dns', false, { description: 'resolve names locally' });
  envInclude = Option.String('-s,--env-include', { description: "only these remote variables (';'-separated, * and ? globs)" });
  envExclude = Option.String('-x,--env-exclude', { description: "remote variables to leave out (';'-separated, * and ? globs)" });
  steal = Option.Boolean('--steal', false, { description: "take the target's incoming traffic instead of mirroring it" });
  kubeContext = Option.String('--context', { description: 'kubeconfig context to use' });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'no progress output' });
  command = Option.Proxy({ name: 'command', required: 1 });

  /** The flags as a raw config (mirrord's layout), merged over the file by the config loader. */
  overrides(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    const feature: Record<string, unknown> = {};
    const network: Record<string, unknown> = {};
    if (this.target !== undefined) o['target'] = this.namespace ? { path: this.target, namespace: this.namespace } : this.target;
    else if (this.namespace) o['target'] = { namespace: this.namespace };
    if (this.kubeContext) o['kube_context'] = this.kubeContext;
    if (this.fsMode) feature['fs'] = { mode: this.fsMode };
    const env: Record<string, unknown> = {};
    if (this.envInclude) env['include'] = this.envInclude.split(';').filter(Boolean);
    if (this.envExclude) env['exclude'] = this.envExclude.split(';').filter(Boolean);
    if (Object.keys(env).length) feature['env'] = env;
    if (this.noOutgoing) network['outgoing'] = { tcp: false, udp: false };
    else if (this.noTcpOutgoing || this.noUdpOutgoing) {
      network['outgoing'] = { ...(this.noTcpOutgoing ? { tcp: false } : {}), ...(this.noUdpOutgoing ? { udp: false } : {}) };
    }
    if (this.noRemoteDns) network['dns'] = { enabled: false };
    if (this.steal) network['incoming'] = { mode: 'steal' };
    if (Object.keys(network).length) feature['network'] = network;
    if (Object.keys(feature).length) o['feature'] = feature;
    return o;
  }

  async execute(): Promise<number> {
    return execMain({
      command: this.command,
      configFile: this.configFile,
      overrides: this.overrides(),
      quiet: this.quiet,
      cwd: process.cwd(),
      env: process.env,
      stderr: this.context.stderr,
    });
  }
}
