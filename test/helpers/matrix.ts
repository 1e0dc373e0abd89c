/**
 * The real-program matrix (issue 13): third-party programs under `podlink exec -t pid/<target>` from the
 * laptop netns of a test world, against services this module starts inside the world's pods.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../common/paths.js';
import type { World } from './world.js';

export const CLI = path.join(packageRoot, 'bin', 'podlink.js');
export const FIXTURES = path.join(packageRoot, 'test', 'fixtures', 'real-programs');

/** Ports of the matrix services in pod B (service-b). 81 drops every SYN (see dropSyns). */
export const PORTS = { http: 8081, redis: 6379, grpc: 50051, blackhole: 81 } as const;

/** Waits for a process's {"ready":true} line; rejects with its stderr if it exits first. */
export function ready(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (/^\{"ready":true/m.test(out)) resolve();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready: ${err}`)));
  });
}

/** Starts the HTTP (counting), RESP and gRPC services in pod B. Killed by world.destroy(). */
export async function startPodServices(world: World): Promise<void> {
  const child = world.spawnIn(world.podB.netns, process.execPath, [
    path.join(FIXTURES, 'pod-services.mjs'), '--http', String(PORTS.http), '--redis', String(PORTS.redis), '--grpc', String(PORTS.grpc),
  ], { stdio: ['ignore', 'pipe', 'pipe'], cwd: packageRoot });
  await ready(child, 'pod services');
}

/** Pod B silently drops SYNs to PORTS.blackhole (a firewalled port: a connect there never completes). */
export async function dropSyns(world: World): Promise<void> {
  const r = await world.runIn(world.podB.netns, 'iptables', ['-w', '-A', 'INPUT', '-p', 'tcp', '--dport', String(PORTS.blackhole), '-j', 'DROP']);
  if (r.code !== 0) throw new Error(`iptables in pod B: ${r.stderr}`);
}

export interface Exec {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `podlink exec -q -t pid/<target> -- cmd…` in the laptop netns. */
export function podlinkExec(world: World, target: number, cmd: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<Exec> {
  return world.runIn(world.laptop, process.execPath, [CLI, 'exec', '-q', '-t', `pid/${target}`, '--', ...cmd], {
    cwd: opts.cwd ?? packageRoot,
    timeoutMs: opts.timeoutMs ?? 120_000,
  });
}

/**
 * A second target in pod A's network whose resolv.conf names a LOOPBACK nameserver (127.0.0.53, as
 * systemd-resolved, a node-local cache or Docker's 127.0.0.11 would), served by a dnsmasq on pod A's
 * loopback that knows service-b. Resolvers that read resolv.conf themselves must reach it in the pod.
 * Returns the target's pid; both processes die with the world.
 */
export async function loopbackDnsTarget(world: World): Promise<number> {
  const dir = fs.mkdtempSync(path.join(world.dir, 'lo-dns-'));
  const resolv = path.join(dir, 'resolv.conf');
  fs.writeFileSync(resolv, `nameserver 127.0.0.53\nsearch ${world.domain} svc.cluster.local cluster.local\noptions ndots:5\n`);
  const dns = world.spawnIn(world.podA.netns, '/usr/sbin/dnsmasq', [
    '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--bind-interfaces',
    '--listen-address=127.0.0.53', '--user=root', `--pid-file=${path.join(dir, 'dnsmasq.pid')}`,
    `--host-record=${world.serviceB.fqdn},${world.podB.ip}`, '--address=/#/',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  dns.on('error', () => undefined);
  const script = `mount --bind ${resolv} /etc/resolv.conf && echo '{"ready":true}' && exec sleep infinity`;
  const target = world.spawnIn(world.podA.netns, 'unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await ready(target, 'loopback-DNS target');
  // dnsmasq answers once it listens: ask it from pod A until it does (it prints nothing when ready).
  for (let i = 0; ; i++) {
    const r = await world.runIn(world.podA.netns, 'dig', ['+short', '+time=1', '+tries=1', '@127.0.0.53', world.serviceB.fqdn]);
    if (r.stdout.trim() === world.podB.ip) break;
    if (i > 50) throw new Error(`dnsmasq on 127.0.0.53 in pod A does not answer: ${r.stdout}${r.stderr}`);
  }
  return target.pid!;
}
