import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { execMain } from '../exec.js';

export class ExecCommand extends Command {
  static override paths = [['exec']];

  static override usage = Command.Usage({
    description: "run a command locally, as if it ran inside the target's pod",
    details: `
      The command runs on this machine (your debugger, hot reload and local files keep working), but its DNS lookups, outgoing TCP/UDP connections, environment variables and file reads come from the target's context. Reads of files that exist in the target come from the target; writes stay local (\`--fs-mode\` and \`feature.fs\` change that). Children of the command are covered too.

      Targets: \`pod/NAME[/container/C]\`, \`deployment/NAME\`, \`statefulset/NAME\`, \`replicaset/NAME\`, \`job/NAME\`, \`cronjob/NAME\` (the pod of its latest job), \`service/NAME\` (a ready pod behind it), \`rollout/NAME\` (Argo Rollouts), a bare \`NAME\` for a pod, or no target at all: targetless, for cluster DNS and outgoing access only. \`pid/PID\` targets a local process instead (no cluster; needs root).

      On a cluster, podlink starts a short-lived agent pod (a Job on the target's node, or an ephemeral container with \`-e\`) from the image \`agent.image\` and reaches it through the API server's port-forward, using your kubeconfig (\`--kubeconfig\`, \`KUBECONFIG\`, \`~/.kube/config\`) and its RBAC rights (docs/rbac.md). If the port-forward drops, podlink reconnects: connections open at that moment are reset, everything else carries on. The agent pod is deleted when the command exits, is interrupted or podlink itself is killed.

      Incoming traffic: when the command listens on a TCP port, the target's same port (or the one \`port_mapping\` names) is taken for it. \`mirror\` (the default) gives the command a copy of what clients send to the target, captured from the target's network: the target keeps answering and the command's answers are dropped. \`steal\` (\`--steal\`) sends the connections to the command instead, and its answers go back to the clients; with \`http_filter\` only the HTTP requests that match are taken (HTTP/1.1 per request, HTTP/2 and gRPC per stream, WebSocket and other upgrades whole) and the others reach the target's app unchanged. The kubelet's HTTP probes of the port always reach the target's app, so the pod stays Ready while you steal. The redirect lives in the target's network namespace and disappears with the agent, however the session ends. \`incoming: "off"\` leaves every port alone. Several developers can steal one target at once, each with an \`http_filter\` of their own (e.g. their own \`X-Dev-User\` header): each gets the requests their filter matches and the pod keeps the rest; an unfiltered steal beside them, or the same filter twice, is refused in one line naming the other sessions (\`on_concurrent_steal\`), and \`podlink sessions -t TARGET\` lists who is there.

      Flags override the config file (\`-f\`, else \`.podlink/podlink.json|yaml|toml\`, else \`.mirrord/mirrord.json\`); the file uses mirrord's keys (see \`podlink verify-config\` and \`podlink schema\`). Progress goes to stderr: a tree on a terminal, plain lines otherwise, JSON lines with \`--output json\`, nothing with \`-q\`.
    `,
    examples: [
      ['Run a Node service with the environment, DNS, network and files of a deployment\'s pod', '$0 exec -t deployment/service-a -- npm run dev'],
      ['Talk to cluster services from a script, with no target (targetless)', '$0 exec -- curl http://service-b.default.svc.cluster.local:8080/'],
      ['A container of a pod in another namespace, with another kube context', '$0 exec -t pod/api-0/container/app -n staging --context dev-cluster -- python3 app.py'],
      ['Use a team config file', '$0 exec -f .podlink/podlink.json -- npm run dev'],
      ['Keep every file local, but take env, DNS and network from the target', '$0 exec -t deployment/api --fs-mode local -- node server.js'],
      ['Get a copy of the traffic service-a receives while your local build handles it too (mirror, the default)', '$0 exec -t deployment/service-a -- npm run dev'],
      ['Take all of service-a\'s incoming traffic: callers get your local answers (steal)', '$0 exec -t deployment/service-a --steal -- npm run dev'],
      ['Take only the requests carrying your header; everyone else keeps reaching the pod (filtered steal, a config file)', '$0 exec -t deployment/service-a -f .podlink/podlink.json -- npm run dev   # {"feature":{"network":{"incoming":{"mode":"steal","http_filter":{"header_filter":"^X-Dev-User: {{ get_env(name=\\"USER\\") }}$"}}}}}'],
      ['Your app listens on 3000 while the pod\'s port is 8080 (port_mapping)', '$0 exec -t deployment/service-a -f port-mapping.json -- node server.js --port 3000   # {"feature":{"network":{"incoming":{"mode":"steal","port_mapping":[[3000,8080]]}}}}'],
      ['A local process as the target (no cluster; root)', '$0 exec -t pid/4242 -- python3 app.py'],
      ['Progress as JSON lines on stderr, for an IDE or a script', '$0 exec -t deployment/api --output json -- node server.js'],
    ],
  });

  target = Option.String('-t,--target', { description: 'what to run as: deployment/NAME, pod/NAME[/container/C], …, pid/PID; none = targetless' });
  namespace = Option.String('-n,--target-namespace', { description: "the target's namespace (default: the kube context's)" });
  agentNamespace = Option.String('-a,--agent-namespace', { description: "where the agent pod runs (default: the target's namespace)" });
  configFile = Option.String('-f,--config-file', { description: 'config file (JSON, YAML or TOML, mirrord keys)' });
  kubeconfig = Option.String('--kubeconfig', { description: 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)' });
  kubeContext = Option.String('--context', { description: 'kubeconfig context to use' });
  agentImage = Option.String('-i,--agent-image', { description: 'agent image reference (default: ghcr.io/podlink/agent:<podlink version>)' });
  ephemeral = Option.Boolean('-e,--ephemeral-container', false, { description: 'run the agent as an ephemeral container in the target pod' });
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
  steal = Option.Boolean('--steal', false, { description: "take the target's incoming traffic (the command answers) instead of mirroring a copy of it" });
  quiet = Option.Boolean('-q,--quiet', false, { description: 'no progress output' });
  output = Option.String('-o,--output', { description: 'progress format: text (default) or json (JSON lines on stderr)', validator: t.isEnum(['text', 'json']) });
  command = Option.Proxy({ name: 'command', required: 1 });

  /** The flags as a raw config (mirrord's layout), merged over the file by the config loader. */
  overrides(): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    const feature: Record<string, unknown> = {};
    const network: Record<string, unknown> = {};
    if (this.target !== undefined) o['target'] = this.namespace ? { path: this.target, namespace: this.namespace } : this.target;
    else if (this.namespace) o['target'] = { namespace: this.namespace };
    if (this.kubeContext) o['kube_context'] = this.kubeContext;
    if (this.kubeconfig) o['kubeconfig'] = this.kubeconfig;
    const agent: Record<string, unknown> = {};
    if (this.agentNamespace) agent['namespace'] = this.agentNamespace;
    if (this.agentImage) agent['image'] = this.agentImage;
    if (this.ephemeral) agent['ephemeral'] = true;
    if (Object.keys(agent).length) o['agent'] = agent;
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
      output: this.output === 'json' ? 'json' : this.quiet ? 'quiet' : 'tree',
      cwd: process.cwd(),
      env: process.env,
      stderr: this.context.stderr,
    });
  }
}
