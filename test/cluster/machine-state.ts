// What the test cluster could change on this machine, captured so a test can prove that
// `cluster:down` (or a failed `cluster:up`) left the machine as it found it. Only what the cluster
// could touch is captured: other test suites create their own pl-* netns and links at the same
// time on the same machine, and those must not make this comparison flaky.
//
// Run directly (`node dist/test/cluster/machine-state.js`) it prints the state as JSON, which is
// how scripts/test.sh records the baseline before it boots the cluster.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface MachineState {
  netns: string[];
  mounts: string[];
  processes: string[];
  cgroups: string[];
  rootLinks: string[];
  rootRoutes: string[];
  rootRuleset: string;
  sysctls: Record<string, string>;
  paths: string[];
}

const CLUSTER_DIRS = ['/run/podlink-cluster', '/var/lib/podlink-cluster'];
const OURS = /^(kcl|cni-)/; // netns names the cluster creates (its own two, and CNI's pod netns)
const CLUSTER_EXES = new Set(['kcluster', 'containerd', 'containerd-shim-runc-v2', 'etcd', 'coredns', 'runc', 'pause']);
const SYSCTLS = ['vm.overcommit_memory', 'kernel.panic', 'kernel.panic_on_oops', 'net.ipv4.ip_forward',
  'net.bridge.bridge-nf-call-iptables', 'net.ipv4.conf.all.route_localnet'];
const PATHS = [...CLUSTER_DIRS, '/run/containerd', '/var/lib/cni', '/var/log/containers', '/var/log/pods',
  '/etc/cni', '/opt/containerd', '/var/lib/containerd', '/var/lib/kubelet', '/var/run/kubernetes'];

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });
const safe = <T>(f: () => T, dflt: T): T => {
  try {
    return f();
  } catch {
    return dflt;
  }
};

function clusterMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((line) => {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    return `${f[4]} ${f[sep + 1]}`; // mount point and file system type
  }).filter((m) => {
    const point = m.split(' ')[0]!;
    return CLUSTER_DIRS.some((d) => point === d || point.startsWith(`${d}/`)) ||
      (point.startsWith('/run/netns/') && OURS.test(path.basename(point))) ||
      /containerd|kubelet|\/var\/lib\/cni/.test(point);
  }).sort();
}

/** Cluster binaries, and anything in a kubepods cgroup or in one of the cluster's netns. */
function clusterProcesses(ourNetns: Set<string>): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const exe = safe(() => path.basename(readlinkSync(`/proc/${pid}/exe`)), '');
    const cgroup = safe(() => readFileSync(`/proc/${pid}/cgroup`, 'utf8'), '');
    const net = safe(() => readlinkSync(`/proc/${pid}/ns/net`), '');
    if (CLUSTER_EXES.has(exe) || cgroup.includes('/kubepods') || ourNetns.has(net)) {
      const cmd = safe(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim(), '');
      if (cmd) found.push(`${exe}: ${cmd.slice(0, 160)}`); // pids differ run to run; commands do not
    }
  }
  return found.sort();
}

function cgroups(): string[] {
  const out: string[] = [];
  for (const hierarchy of safe(() => readdirSync('/sys/fs/cgroup'), [])) {
    const dir = path.join('/sys/fs/cgroup', hierarchy);
    if (!safe(() => statSync(dir).isDirectory(), false)) continue;
    for (const child of safe(() => readdirSync(dir, { withFileTypes: true }), [])) {
      if (child.isDirectory()) out.push(`${hierarchy}/${child.name}`);
    }
  }
  return out.sort();
}

export function machineState(): MachineState {
  const netns = safe(() => readdirSync('/run/netns'), [] as string[]).filter((n) => OURS.test(n)).sort();
  const ourNetns = new Set(netns.map((n) => safe(() => `net:[${statSync(`/run/netns/${n}`).ino}]`, '')));
  return {
    netns,
    mounts: clusterMounts(),
    processes: clusterProcesses(ourNetns),
    cgroups: cgroups(),
    // Other suites' links and routes in the machine's netns are named pl-*; they come and go.
    rootLinks: sh('ip', ['-o', 'link', 'show']).split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
      .filter((n) => n && !n.startsWith('pl')).sort(),
    rootRoutes: sh('ip', ['route', 'show', 'table', 'all']).split('\n').filter((l) => l && !/ dev pl/.test(l)).sort(),
    rootRuleset: safe(() => sh('nft', ['list', 'ruleset']), 'nft unavailable'),
    sysctls: Object.fromEntries(SYSCTLS.map((k) => [k, safe(() => sh('sysctl', ['-n', k]).trim(), 'absent')])),
    paths: PATHS.filter((p) => existsSync(p)),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(JSON.stringify(machineState(), null, 2));
