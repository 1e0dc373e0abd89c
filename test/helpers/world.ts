// The ring-2 test world (DESIGN.md "Tests: three rings"): "pods" made of network namespaces.
//
//   pl-XXXX-sw      private "switch": bridge br0 + one veth end per pod (no IP)
//   pl-XXXX-a       pod A, 10.77.0.10/24 — the TARGET: node HTTP + UDP echo, secret env,
//                   /etc/netns resolv.conf + hosts, a tmpfs /srv only in its mount namespace
//   pl-XXXX-b       pod B, 10.77.0.20/24 — node HTTP "hello from service-b"
//   pl-XXXX-dns     dnsmasq on 10.77.0.53 answering service-b.default.svc.cluster.local
//   pl-XXXX-laptop  loopback only: no other interface, no route — where podlink's user runs
//   pl-XXXX-laptop2 the same, a second developer's laptop (several sessions on one pod)
//
//   const world = await createWorld();          // ~0.4–0.9 s; destroy() ~0.1 s
//   await world.runIn(world.laptop, 'curl', [...]) // fails: the laptop has no route
//   nsenter -t world.podA.pid -n -m <cmd>          // the target's own view: resolver, hosts, /srv
//   after(() => world.destroy());
// Leftovers of a crashed run: `node dist/test/helpers/world-cli.js list` / `down --name pl-XXXX`.
//
// Every veth is created inside the switch netns with its peer moved straight into the pod,
// so nothing ever appears in the machine's root netns. The subnet is the same in every world:
// worlds are isolated from each other and from the host, only the names differ.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir, nsenterArgs, probe, startDaemon } from './world-proc.js';
import {
  ETC_NETNS, checkWorldName, must, netnsList, netnsName, procStartTime, saveState, teardown, worldDir,
  type NetnsRole, type WorldState,
} from './world-sys.js';

export interface Pod { netns: string; ip: string }

export interface World {
  name: string;
  /** netns of the "laptop": lo up (127.0.0.1, ::1), no other interface, no route. */
  laptop: string;
  /** A second laptop like the first: another developer's sessions on the same pod. */
  laptop2: string;
  /** The target. pid = the node server process (HTTP on httpPort, UDP echo on udpPort, both 0.0.0.0). */
  podA: Pod & { pid: number; httpPort: number; udpPort: number };
  podB: Pod & { httpPort: number };
  /** dnsmasq's address: the nameserver in pod A's resolv.conf. */
  dns: Pod;
  domain: string;
  serviceB: { short: string; fqdn: string; hostsOnly: string };
  /** Set only in the target's environment. */
  secretEnv: { name: string; value: string };
  /** Exists only in the target's mount namespace (tmpfs on /srv); entries = sorted names in dir. */
  targetFile: { path: string; content: string; dir: string; entries: string[] };
  /** Additions beyond the agreed API: the switch netns and the temp dir (state.json, dnsmasq.log, pod logs). */
  switchNetns: string;
  dir: string;
  /**
   * Spawns `cmd args` in `netns` (this world's; '' means the laptop) with
   * `nsenter --net=/run/netns/<netns> -- cmd args`: ONLY the network namespace changes. Unlike
   * `ip netns exec` there is no new mount namespace, no /etc/netns bind mounts and no /sys
   * remount, so the process sees the host's files (a file it writes lands on the host) and
   * nsenter execs, so child.pid is the command's own pid. To see pod A's resolv.conf/hosts/srv,
   * enter the target instead: `nsenter -t <podA.pid> -n -m <cmd>`.
   */
  spawnIn(netns: string, cmd: string, args: string[], opts?: SpawnOptions): ChildProcess;
  /** spawnIn + collect output. stdin gets `input` (or is closed at once); on timeout (default 30 s) SIGKILL and code null. */
  runIn(
    netns: string,
    cmd: string,
    args: string[],
    opts?: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string },
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Kills every process it started or that lives in its namespaces, deletes namespaces, /etc/netns dir, temp dir. Idempotent. */
  destroy(): Promise<void>;
}

export interface CreateWorldOptions {
  name?: string;
  /** @internal test hook: throw right after this build step, to prove cleanup of a half-built world. */
  failAfter?: 'network' | 'etc' | 'servers' | 'ready';
}

const NET = '10.77.0';
const IPS = { a: `${NET}.10`, b: `${NET}.20`, dns: `${NET}.53` } as const;
const DOMAIN = 'default.svc.cluster.local';
const SEARCH = [DOMAIN, 'svc.cluster.local', 'cluster.local'];
const POD_A_HTTP = 8080;
const POD_A_UDP = 9000;
const POD_B_HTTP = 80; // so `curl http://service-b/` works like a Kubernetes Service on port 80
const SRV_DIR = '/srv/podinfo';
const PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const READY_MS = 15_000;

async function freshName(): Promise<string> {
  const taken = new Set((await netnsList()).map((n) => n.replace(/-[a-z]+$/, '')));
  for (;;) {
    const name = `pl-${randomBytes(2).toString('hex')}`;
    if (!taken.has(name) && !existsSync(worldDir(name))) return name;
  }
}

/** One `ip -n NS -batch -` per namespace: a handful of processes instead of one per command. */
function ipBatch(ns: string, lines: string[]): Promise<string> {
  return must('ip', ['-n', ns, '-batch', '-'], { input: lines.join('\n') + '\n' });
}

async function buildNetwork(state: WorldState, ns: Record<NetnsRole, string>): Promise<void> {
  for (const role of ['sw', 'a', 'b', 'dns', 'laptop', 'laptop2'] as const) {
    // Recorded only once created: a name that already exists belongs to someone else.
    await must('ip', ['netns', 'add', ns[role]]);
    state.netns.push(ns[role]);
    saveState(state);
  }
  const pods = ['a', 'b', 'dns'] as const;
  await ipBatch(ns.sw, [
    'link set lo up',
    'link add br0 type bridge forward_delay 0',
    'link set br0 up',
    ...pods.flatMap((p) => [`link add v-${p} type veth peer name eth0 netns ${ns[p]}`, `link set v-${p} master br0 up`]),
  ]);
  await Promise.all([
    ...pods.map((p) => ipBatch(ns[p], ['link set lo up', `addr add ${IPS[p]}/24 dev eth0`, 'link set eth0 up'])),
    ipBatch(ns.laptop, ['link set lo up']),
    ipBatch(ns.laptop2, ['link set lo up']),
  ]);
}

/** `ip netns exec` bind-mounts every file of /etc/netns/<ns>/ over /etc/ for the target. */
function writeEtc(state: WorldState, podA: string): { resolv: string; hosts: string } {
  const dir = join(ETC_NETNS, podA);
  state.etcDirs.push(dir);
  saveState(state);
  // Retry: another world's teardown may rmdir an empty /etc/netns between our two mkdirs.
  for (let i = 0; ; i++) {
    try {
      mkdirSync(dir, { recursive: true });
      break;
    } catch (e) {
      if (i >= 5 || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  const resolv = `nameserver ${IPS.dns}\nsearch ${SEARCH.join(' ')}\noptions ndots:5\n`;
  const hosts =
    '# hosts file of pod A (podlink test world)\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
    `${IPS.a}\tpod-a\n${IPS.b}\tlegacy-b\n`;
  writeFileSync(join(dir, 'resolv.conf'), resolv);
  writeFileSync(join(dir, 'hosts'), hosts);
  return { resolv, hosts };
}

// Runs as `sh -c TARGET_SCRIPT sh <app.conf content> <node> <server> <args…>` inside the target's
// own private mount namespace: the tmpfs is invisible to the host and to every other process.
const TARGET_SCRIPT = [
  'set -e',
  `mount -t tmpfs -o mode=0755,size=4m podinfo /srv`,
  `mkdir -p ${SRV_DIR}/data`,
  `printf '%s' "$1" > ${SRV_DIR}/app.conf`,
  `printf 'app=pod-a\\nteam=podlink\\n' > ${SRV_DIR}/labels`,
  `printf 'only in the target\\n' > ${SRV_DIR}/data/note.txt`,
  'shift',
  'exec "$@"',
].join('\n');

export async function createWorld(opts: CreateWorldOptions = {}): Promise<World> {
  if (!existsSync('/srv')) throw new Error('/srv does not exist on this machine: the target mounts its tmpfs there');
  let name = opts.name ?? (await freshName());
  checkWorldName(name);
  // Creating the temp dir is the name lock: it fails if a world of this name exists or left leftovers.
  // A random name that another process grabbed a moment ago is simply replaced by a fresh one.
  for (;;) {
    try {
      mkdirSync(worldDir(name), { mode: 0o700 });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (opts.name) {
        throw new Error(`world ${name} exists or left leftovers (${worldDir(name)}); remove with: node dist/test/helpers/world-cli.js down --name ${name}`);
      }
      name = await freshName();
    }
  }
  const dir = worldDir(name);
  const state: WorldState = { name, ownerPid: process.pid, dir, netns: [], etcDirs: [], pids: [] };
  saveState(state);

  const spawned = new Set<ChildProcess>(); // spawnIn children still running
  let destroying: Promise<void> | null = null;
  const destroy = (): Promise<void> =>
    (destroying ??= (async () => {
      // spawnIn children are killed too, even if they moved to a netns of their own.
      for (const c of spawned) {
        if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
          state.pids.push({ pid: c.pid, start: procStartTime(c.pid), what: 'spawnIn' });
        }
      }
      await teardown(state);
    })());

  const ns = Object.fromEntries((['laptop', 'laptop2', 'a', 'b', 'dns', 'sw'] as const).map((r) => [r, netnsName(name, r)])) as Record<NetnsRole, string>;
  const step = (s: CreateWorldOptions['failAfter']) => {
    if (opts.failAfter === s) throw new Error(`createWorld: failing after '${s}' as asked (test hook)`);
  };
  try {
    await buildNetwork(state, ns);
    step('network');
    const etc = writeEtc(state, ns.a);
    step('etc');

    const secretEnv = { name: 'PODLINK_TEST_SECRET', value: `s3cr3t-${randomBytes(8).toString('hex')}` };
    const content = `# app.conf of pod A\ntoken=${randomBytes(12).toString('hex')}\n`;
    const server = join(fixturesDir(), 'pod-server.mjs');
    const node = realpathSync(process.execPath);
    const baseEnv = { PATH: PATH_ENV, HOME: '/root', LANG: 'C.UTF-8' };
    // Kubernetes-style env plus the secret; nothing inherited from the test process.
    const targetEnv = {
      ...baseEnv, HOSTNAME: 'pod-a', POD_NAME: 'pod-a', POD_NAMESPACE: 'default',
      SERVICE_B_SERVICE_HOST: IPS.b, SERVICE_B_SERVICE_PORT: String(POD_B_HTTP),
      [secretEnv.name]: secretEnv.value,
    };
    const record = (what: string, pid: number) => {
      state.pids.push({ pid, start: procStartTime(pid), what });
      saveState(state);
    };
    // dnsmasq changes credentials at start, which clears the parent-death signal, so it runs
    // under a shell that is pid 1 of its own pid namespace: unshare --kill-child gives that shell
    // the death signal, and when a pid namespace's init dies the kernel kills everything in it.
    const dnsmasq = startDaemon('dnsmasq', ['nsenter', ...nsenterArgs(ns.dns, 'unshare', [
      '--pid', '--fork', '--kill-child=SIGKILL', 'sh', '-c', '"$@" & wait $!', 'sh', '/usr/sbin/dnsmasq',
      '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--bind-interfaces',
      `--listen-address=${IPS.dns}`, '--user=root', `--pid-file=${join(dir, 'dnsmasq.pid')}`,
      '--log-queries', `--log-facility=${join(dir, 'dnsmasq.log')}`,
      `--host-record=service-b.${DOMAIN},${IPS.b}`,
      '--address=/#/', // everything else: NXDOMAIN, never forwarded anywhere
      // (dnsmasq.pid holds its pid inside that pid namespace; its host pid: `ip netns pids <dns netns>`)
    ])], baseEnv, join(dir, 'dnsmasq.out'));
    record('dnsmasq', dnsmasq.pid);
    const podB = startDaemon('pod B server', ['nsenter', ...nsenterArgs(ns.b, node, [
      server, '--greeting', 'hello from service-b', '--http', String(POD_B_HTTP),
    ])], baseEnv, join(dir, 'pod-b.log'));
    record('pod-b', podB.pid);
    const target = startDaemon('pod A target', ['ip', 'netns', 'exec', ns.a, 'unshare', '--mount', '--propagation', 'private',
      'sh', '-c', TARGET_SCRIPT, 'sh', content,
      node, server, '--greeting', 'pod-a says hi', '--http', String(POD_A_HTTP), '--udp', String(POD_A_UDP),
    ], targetEnv, join(dir, 'pod-a.log'));
    record('pod-a', target.pid);
    step('servers');

    // Ready = each server said so AND pod A's netns reaches every service over the bridge.
    // The probe starts right away and retries, so its own start-up overlaps the servers'.
    // One probe process for all four checks: each node start-up costs ~150 ms.
    await Promise.race([
      dnsmasq.exited,
      Promise.all([
        podB.ready,
        target.ready,
        probe(ns.a, READY_MS, [
          'dns', IPS.dns, `service-b.${DOMAIN}`, IPS.b, '+',
          'http', `http://${IPS.b}:${POD_B_HTTP}/ready`, 'hello from service-b', '+',
          'http', `http://${IPS.a}:${POD_A_HTTP}/ready`, 'pod-a says hi', '+',
          'udp', IPS.a, String(POD_A_UDP), 'ready',
        ]),
      ]),
    ]);
    step('ready');

    const entries = ['app.conf', 'data', 'labels'];
    const targetFile = { path: `${SRV_DIR}/app.conf`, content, dir: SRV_DIR, entries };
    verifyTarget(target.pid, ns.a, node, etc.resolv, targetFile, secretEnv);

    const ours = new Set(Object.values(ns));
    const resolveNs = (n: string) => {
      const netns = n || ns.laptop;
      if (!ours.has(netns)) throw new Error(`netns '${netns}' is not part of world ${name} (${[...ours].join(', ')})`);
      return netns;
    };
    const world: World = {
      name,
      laptop: ns.laptop,
      laptop2: ns.laptop2,
      podA: { netns: ns.a, ip: IPS.a, pid: target.pid, httpPort: POD_A_HTTP, udpPort: POD_A_UDP },
      podB: { netns: ns.b, ip: IPS.b, httpPort: POD_B_HTTP },
      dns: { netns: ns.dns, ip: IPS.dns },
      domain: DOMAIN,
      serviceB: { short: 'service-b', fqdn: `service-b.${DOMAIN}`, hostsOnly: 'legacy-b' },
      secretEnv,
      targetFile,
      switchNetns: ns.sw,
      dir,
      spawnIn(netns, cmd, args, spawnOpts = {}) {
        if (destroying) throw new Error(`world ${name} is destroyed`);
        const child = spawn('nsenter', nsenterArgs(resolveNs(netns), cmd, args), spawnOpts);
        spawned.add(child);
        child.once('exit', () => spawned.delete(child));
        return child;
      },
      runIn(netns, cmd, args, o = {}) {
        return new Promise((resolve, reject) => {
          const child = world.spawnIn(netns, cmd, args, { env: o.env ?? process.env, cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
          child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
          child.stdin!.on('error', () => {}); // the command may exit without reading its input
          child.stdin!.end(o.input ?? '');
          const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000);
          child.on('error', (e) => {
            clearTimeout(timer);
            reject(e);
          });
          child.on('close', (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr });
          });
        });
      },
      destroy,
    };
    return world;
  } catch (e) {
    await destroy().catch((e2: Error) => {
      (e as Error).message += `\n(and cleanup failed: ${e2.message})`;
    });
    throw e;
  }
}

/** The brief's "verify afterwards": the target really has pod A's resolver, the file, the secret, the netns. */
function verifyTarget(
  pid: number, podA: string, node: string, resolv: string,
  file: { path: string; content: string; dir: string; entries: string[] }, secret: { name: string; value: string },
): void {
  const problems: string[] = [];
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch (e) {
      return `<${(e as Error).message}>`;
    }
  };
  if (readlinkSync(`/proc/${pid}/exe`) !== node) problems.push(`pid ${pid} is ${readlinkSync(`/proc/${pid}/exe`)}, not node`);
  if (read(`/proc/${pid}/root/etc/resolv.conf`) !== resolv) problems.push('its /etc/resolv.conf is not pod A\'s');
  if (read(`/proc/${pid}/root${file.path}`) !== file.content) problems.push(`its ${file.path} does not hold the content`);
  if (!read(`/proc/${pid}/environ`).split('\0').includes(`${secret.name}=${secret.value}`)) problems.push('the secret is not in its environ');
  if (existsSync(file.path)) problems.push(`${file.path} exists on the host too`);
  if (statSync(`/proc/${pid}/ns/net`).ino !== statSync(`/run/netns/${podA}`).ino) problems.push(`it is not in netns ${podA}`);
  if (problems.length) throw new Error(`target check failed: ${problems.join('; ')}`);
}
