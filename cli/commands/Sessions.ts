import { Command, Option } from 'clipanion';
import { loadKube, type Kube } from '../../kube/client.js';
import { listSessions, type ListedSession } from '../../kube/sessions.js';
import { TARGET_KINDS, parsePath } from '../../kube/target.js';
import { parseTargetPath } from '../../config/target.js';
import { PodlinkError, errorLine } from '../errors.js';
import { KubeQueryCommand } from './kube-query.js';

/** The sessions on a target: those started against that very path, or whose agent serves one of its pods. */
export function onTarget(list: ListedSession[], path: string, pods: Set<string>): ListedSession[] {
  const base = path.replace(/\/container\/.*$/, '');
  return list.filter((s) => (s.pod !== undefined && pods.has(s.pod)) || s.target?.replace(/\/container\/.*$/, '') === base);
}

/** `2026-11-29 23:41:02 UTC (3 min ago)`. */
export function sinceText(iso: string, now: number): string {
  const t0 = Date.parse(iso);
  if (Number.isNaN(t0)) return '?';
  const s = Math.max(0, Math.round((now - t0) / 1000));
  const ago = s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${new Date(t0).toISOString().slice(0, 19).replace('T', ' ')} UTC (${ago} ago)`;
}

/** The filter column: `header ^X-Dev-User: alice$`, `… on 8080` with http_filter.ports, `-` for whole ports or mirror. */
function filterText(s: ListedSession): string {
  if (!s.filter || s.mode !== 'steal') return '-';
  return s.filterPorts ? `${s.filter} (on ${s.filterPorts.join(',')})` : s.filter;
}

/** One row per session, columns aligned; `-` where there is nothing (yet). */
export function sessionsTable(list: ListedSession[], now: number): string {
  const rows = [['USER', 'KUBE USER', 'TARGET', 'MODE', 'FILTER', 'PORTS', 'SINCE']];
  for (const s of list) {
    rows.push([`${s.user}@${s.host}`, s.kubeUser ?? '-', s.target ?? '(targetless)', s.mode, filterText(s), s.ports.length ? s.ports.join(',') : '-', sinceText(s.since, now)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

/** The JSON form: one object per session (no field is left out; `null` where there is nothing). */
export function sessionsJson(list: ListedSession[]): object[] {
  return list.map((s) => ({
    user: s.user,
    host: s.host,
    kubeUser: s.kubeUser ?? null,
    namespace: s.namespace,
    target: s.target ?? null,
    pod: s.pod ?? null,
    mode: s.mode,
    filter: s.mode === 'steal' ? (s.filter ?? null) : null,
    filterPorts: s.filterPorts ?? null,
    ports: s.ports,
    since: s.since,
    agent: s.agent,
    ephemeral: s.ephemeral === true,
  }));
}

/** The pods `path` stands for in `namespace` (a pod that is gone stands for nothing). */
async function podsOf(kube: Kube, path: string): Promise<Set<string>> {
  const { kind, name } = parsePath(path);
  const { pods } = await TARGET_KINDS[kind]!(kube, kube.namespace, name).catch((e: { code?: string }) => {
    // A pod that no longer exists may still have sessions recorded against its path.
    if (kind === 'pod' && e.code === 'KUBE_NOT_FOUND') return { pods: [] };
    throw e;
  });
  return new Set(pods.map((p) => p.metadata?.name ?? ''));
}

/** `podlink sessions`: who is on a target's incoming traffic, from the agents' Jobs in the cluster. */
export class SessionsCommand extends KubeQueryCommand {
  static override paths = [['sessions']];

  static override usage = Command.Usage({
    description: "list the podlink sessions on a target (who mirrors or steals what), from the cluster",
    details: `
      Prints one line per session: who runs it (\`user@host\` of their machine), the kubeconfig user, the target, the incoming mode (\`mirror\`, \`steal\`, \`off\`), the HTTP filter of a filtered steal (\`-\`: the whole port), the target's ports it has taken so far (\`-\`: its app listens on none yet) and since when. Without \`-t\`, every session whose agent runs in the namespace; with \`-t\`, those started against that target or whose agent serves one of its pods.

      Everything comes from the agents' Jobs and their \`podlink.dev/*\` annotations: no server of podlink's is involved, and a session disappears from the list when it ends (its Job is deleted, or its agent exited after its link was lost). An ephemeral-container agent (\`agent.ephemeral\`) is recorded on a Job that runs nothing, named as its container, and listed only while that container runs. Sessions of another namespace's agents (\`agent.namespace\`) are listed with \`-n\` that namespace (ephemeral agents are in their target's).

      \`--output json\` prints a JSON array of \`{ user, host, kubeUser, namespace, target, pod, mode, filter, filterPorts, ports, since, agent, ephemeral }\` (\`ephemeral\`: the agent is an ephemeral container of the target pod, \`agent\` its name). Listing needs the \`list jobs\` permission of docs/rbac.md (and \`get pods\` for ephemeral agents' pods; with \`-t\`, reading the target). A problem is one line on stderr and exit status 1.
    `,
    examples: [
      ['Who is on service-a', '$0 sessions -t deployment/service-a'],
      ['Every session in namespace staging, as JSON', '$0 sessions -n staging --output json'],
    ],
  });

  target = Option.String('-t,--target', { description: 'only the sessions on this target: deployment/NAME, pod/NAME, …' });
  namespace = Option.String('-n,--namespace', { description: "namespace of the target and the agents (default: the context's, else default)" });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    try {
      this.checkNamespace(this.namespace);
      let path: string | undefined;
      if (this.target !== undefined) {
        const parsed = parseTargetPath(this.target);
        if ('problem' in parsed) throw new PodlinkError('bad_target', parsed.problem);
        if (parsed.path === undefined) throw new PodlinkError('bad_target', 'a targetless session is on no target: run `podlink sessions` without -t to see every session', 'give a target, e.g. deployment/service-a');
        if (parsed.path.startsWith('pid/')) throw new PodlinkError('bad_target', `\`${this.target}\` is a local process: podlink sessions lists the sessions on a cluster target`, 'give a cluster target, e.g. deployment/service-a');
        path = parsed.path;
      }
      const kube = loadKube({ kubeconfig: this.kubeconfig, context: this.kubeContext, namespace: this.namespace });
      const [all, pods] = await Promise.all([listSessions(kube, kube.namespace), path ? podsOf(kube, path) : undefined]);
      const list = path ? onTarget(all, path, pods!) : all;
      if (this.output === 'json') stdout.write(`${JSON.stringify(sessionsJson(list), null, 2)}\n`);
      else if (list.length === 0) stdout.write(`no podlink sessions ${path ? `on ${path} ` : ''}in namespace ${kube.namespace}\n`);
      else stdout.write(sessionsTable(list, Date.now()));
      return 0;
    } catch (err) {
      stderr.write(`${errorLine(err)}\n`);
      return 1;
    }
  }
}
