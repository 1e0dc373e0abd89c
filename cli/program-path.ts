/**
 * Which path serves the user's program: the layer (LD_PRELOAD, for programs that call libc) or the
 * supervisor (seccomp user notification, for static and Go programs, which never run a preloaded
 * library). The decision is the C one — `podlink-supervisor check` classifies the executable with the
 * same code the layer's exec hooks use (layer/src/exec_kind.c) and says whether the supervisor can run
 * on this machine — so the CLI and a hooked parent starting such a child always agree.
 *
 * `PODLINK_EXEC_PATH=supervisor|layer` forces a path: a test switch (a dynamic program on the
 * supervisor path proves both paths behave the same), not a user setting.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { supervisorBinary } from '../common/paths.js';
import { PodlinkError } from './errors.js';

export type ExecPath = 'layer' | 'supervisor';

export interface PathChoice {
  path: ExecPath;
  /** The program's kind as the supervisor names it: dynamic, static, go, go-cgo, elf32, unknown. */
  kind: string;
  /** Why, for the progress line. */
  reason: string;
}

interface Check {
  kind: string;
  supervisor: boolean;
  available?: boolean;
  reason?: string;
}

const KINDS: Record<string, string> = {
  go: 'a Go program without cgo: it bypasses libc',
  'go-cgo': 'a Go program: its network and file calls bypass libc',
  static: 'a static program: it bypasses libc',
  dynamic: 'a dynamic program',
  elf32: 'a 32-bit program',
  unknown: 'not an ELF program',
};

function check(program: string): Check {
  if (!fs.existsSync(supervisorBinary)) {
    throw new PodlinkError('supervisor_missing', `the podlink supervisor is missing for ${process.arch} (${supervisorBinary})`, 'build it with this machine\'s C compiler: npm run build');
  }
  try {
    return JSON.parse(execFileSync(supervisorBinary, ['check', program], { encoding: 'utf8', env: {} }).trim()) as Check;
  } catch (e) {
    throw new PodlinkError('supervisor_broken', `the podlink supervisor could not classify ${program}: ${(e as Error).message}`);
  }
}

/** Chooses the path for `program` (an absolute path), or throws the one line saying why it cannot be served. */
export function choosePath(program: string, forced: string | undefined): PathChoice {
  const c = check(program);
  const what = KINDS[c.kind] ?? c.kind;
  if (forced === 'layer') return { path: 'layer', kind: c.kind, reason: `forced by PODLINK_EXEC_PATH; ${what}` };
  if (c.kind === 'elf32') {
    throw new PodlinkError('program_unsupported', `cannot serve ${program}: it is a 32-bit program, and podlink's layer and supervisor serve 64-bit programs only`, 'run a 64-bit build of it');
  }
  const wantSupervisor = forced === 'supervisor' || c.supervisor;
  if (!wantSupervisor) return { path: 'layer', kind: c.kind, reason: what };
  if (c.available === undefined && forced === 'supervisor') {
    // A dynamic program forced onto the supervisor: can the supervisor run here at all? (It is itself
    // a static program, so checking it runs the probe.)
    const probe = check(supervisorBinary);
    c.available = probe.available ?? true;
    c.reason = probe.reason;
  }
  if (c.available === false) {
    throw new PodlinkError('supervisor_unavailable', c.reason ?? `cannot serve ${program} with the supervisor`, 'podlink cannot serve this program here; nothing was started');
  }
  return { path: 'supervisor', kind: c.kind, reason: forced === 'supervisor' ? `forced by PODLINK_EXEC_PATH; ${what}` : what };
}
