/**
 * Finding the target container's processes on a node, independent of the container runtime: the agent
 * runs with the node's PID namespace (`hostPID`, or an ephemeral container sharing the target's), and
 * every process of a container has the container's ID in its cgroup path (cgroup v1 and v2, cgroupfs
 * and systemd drivers: `/kubepods/…/<id>`, `…/cri-containerd-<id>.scope`, `…/crio-<id>.scope`).
 */
import fs from 'node:fs';

export class ContainerNotFound extends Error {
  override readonly name = 'ContainerNotFound';
}

/** A container ID as Kubernetes reports it (`containerd://<hex>`), without the runtime prefix. */
export function bareContainerId(id: string): string {
  const i = id.indexOf('://');
  return i >= 0 ? id.slice(i + 3) : id;
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Whether /proc/PID/cgroup names the container (the ID as a whole path element or scope name). */
export function cgroupHasContainer(cgroup: string, id: string): boolean {
  for (const line of cgroup.split('\n')) {
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    for (const part of path.split('/')) {
      if (part === id || (part.endsWith('.scope') && part.slice(0, -'.scope'.length).endsWith(`-${id}`))) return true;
    }
  }
  return false;
}

/**
 * The host PID of the container's first process: among the processes in its cgroup, the one that is
 * PID 1 in its own PID namespace (NSpid's last field), else the lowest PID.
 */
export function findContainerPid(containerId: string, proc = '/proc'): number {
  const id = bareContainerId(containerId);
  if (!/^[0-9a-f]{12,128}$/.test(id)) throw new ContainerNotFound(`\`${containerId}\` is not a container ID`);
  const pids: number[] = [];
  for (const name of fs.readdirSync(proc)) {
    if (!/^\d+$/.test(name)) continue;
    if (cgroupHasContainer(readOr(`${proc}/${name}/cgroup`), id)) pids.push(Number(name));
  }
  if (pids.length === 0) {
    throw new ContainerNotFound(`no process of container ${id.slice(0, 12)} in ${proc}/*/cgroup (the agent needs the node's PID namespace: hostPID)`);
  }
  pids.sort((a, b) => a - b);
  const init = pids.find((pid) => /^NSpid:.*\s1\s*$/m.test(readOr(`${proc}/${pid}/status`)));
  return init ?? pids[0]!;
}

/** Whether process `pid` is in this process's network namespace (an ephemeral container's case). */
export function sharesNetns(pid: number): boolean {
  try {
    return fs.statSync(`/proc/${pid}/ns/net`).ino === fs.statSync('/proc/self/ns/net').ino;
  } catch {
    return false;
  }
}
