/**
 * File requests, served from the target's root. Every path is absolute, as the target sees it.
 * Metadata calls are synchronous (microseconds, cheaper than the thread pool's round trip); reading
 * and writing file content is asynchronous so a large file does not hold up other connections.
 */
import fs from 'node:fs/promises';
import fsSync, { constants as C } from 'node:fs';
import type { BigIntStats, Dirent } from 'node:fs';
import { E } from '../common/errno.js';
import type { MessageOf } from '../protocol/types.js';
import type { Stat } from '../protocol/types.js';
import { resolveInRoot } from './rootfs.js';

const NS = 1_000_000_000n;

export function statOf(s: BigIntStats): Stat {
  const split = (ns: bigint): [bigint, number] => {
    let sec = ns / NS;
    let rem = ns % NS;
    if (rem < 0n) {
      sec -= 1n;
      rem += NS;
    }
    return [sec, Number(rem)];
  };
  const [atimeSec, atimeNsec] = split(s.atimeNs);
  const [mtimeSec, mtimeNsec] = split(s.mtimeNs);
  const [ctimeSec, ctimeNsec] = split(s.ctimeNs);
  return {
    dev: s.dev, ino: s.ino, mode: Number(s.mode), nlink: s.nlink, uid: Number(s.uid), gid: Number(s.gid),
    rdev: s.rdev, size: s.size, blksize: s.blksize, blocks: s.blocks,
    atimeSec, atimeNsec, mtimeSec, mtimeNsec, ctimeSec, ctimeNsec,
  };
}

function fail(code: keyof typeof E, what: string): never {
  const err: NodeJS.ErrnoException = new Error(`${code}: ${what}`);
  err.code = code;
  throw err;
}

/** DT_* values of <dirent.h>, from a Dirent's kind. */
function direntType(d: Dirent): number {
  if (d.isFile()) return 8;
  if (d.isDirectory()) return 4;
  if (d.isSymbolicLink()) return 10;
  if (d.isCharacterDevice()) return 2;
  if (d.isBlockDevice()) return 6;
  if (d.isFIFO()) return 1;
  if (d.isSocket()) return 12;
  return 0;
}

/** pread on the thread pool. */
function readAt(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => fsSync.read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n))));
}

/** Reading inodes costs one lstat per entry; above this many entries d_ino is a stable stand-in. */
const MAX_INO_LOOKUPS = 1024;

export class FileService {
  constructor(private readonly root: string) {}

  async stat(m: MessageOf<'Stat'>): Promise<Stat> {
    const p = resolveInRoot(this.root, m.path, m.follow);
    return statOf(m.follow ? fsSync.statSync(p, { bigint: true }) : fsSync.lstatSync(p, { bigint: true }));
  }

  async access(m: MessageOf<'Access'>): Promise<void> {
    fsSync.accessSync(resolveInRoot(this.root, m.path, true), m.mode);
  }

  async readLink(m: MessageOf<'ReadLink'>): Promise<string> {
    return fsSync.readlinkSync(resolveInRoot(this.root, m.path, false));
  }

  async readDir(m: MessageOf<'ReadDir'>): Promise<MessageOf<'DirEntries'>['entries']> {
    const p = resolveInRoot(this.root, m.path, true);
    const list = await fs.readdir(p, { withFileTypes: true });
    const [self, parent] = await Promise.all([fs.stat(p, { bigint: true }), fs.stat(`${p}/..`, { bigint: true })]);
    const inos =
      list.length <= MAX_INO_LOOKUPS
        ? await Promise.all(list.map((d) => fs.lstat(`${p}/${d.name}`, { bigint: true }).then((s) => s.ino, () => 0n)))
        : list.map((_, i) => BigInt(i + 3));
    return [
      { name: '.', ino: self.ino, type: 4 },
      { name: '..', ino: parent.ino, type: 4 },
      ...list.map((d, i) => ({ name: d.name, ino: inos[i] || BigInt(i + 3), type: direntType(d) })),
    ];
  }

  /**
   * One chunk of a file: regular files by their size, others (procfs…) until EOF or `max`. Opening,
   * fstat and closing are metadata, done at once like the other metadata calls; only the content
   * is read on the thread pool.
   */
  async readFile(m: MessageOf<'ReadFile'>): Promise<Omit<MessageOf<'FileData'>, 'type' | 'id'>> {
    const p = resolveInRoot(this.root, m.path, true);
    const fd = fsSync.openSync(p, C.O_RDONLY | C.O_NONBLOCK);
    try {
      const st = fsSync.fstatSync(fd, { bigint: true });
      if (st.isDirectory()) fail('EISDIR', m.path);
      const regular = st.isFile() && st.size > 0n;
      const want = regular ? Math.max(0, Math.min(m.max, Number(st.size - m.offset))) : m.max;
      const chunks: Buffer[] = [];
      let got = 0;
      let eof = false;
      while (got < want) {
        const buf = Buffer.allocUnsafe(Math.min(want - got, regular ? want - got : 64 * 1024));
        const bytesRead = await readAt(fd, buf, Number(m.offset) + got);
        if (bytesRead === 0) {
          eof = true;
          break;
        }
        chunks.push(buf.subarray(0, bytesRead));
        got += bytesRead;
      }
      if (regular && m.offset + BigInt(got) >= st.size) eof = true;
      if (want === 0) eof = true;
      // One read is the usual case (a regular file's chunk): hand its buffer on, no concatenation.
      return { stat: statOf(st), data: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, got), eof };
    } finally {
      fsSync.closeSync(fd);
    }
  }

  async writeFile(m: MessageOf<'WriteFile'>): Promise<void> {
    const p = resolveInRoot(this.root, m.path, true);
    const fh = await fs.open(p, C.O_WRONLY | C.O_CREAT | (m.truncate ? C.O_TRUNC : 0), m.mode & 0o7777);
    try {
      let off = 0;
      while (off < m.data.length) {
        const { bytesWritten } = await fh.write(m.data, off, m.data.length - off, Number(m.offset) + off);
        off += bytesWritten;
      }
    } finally {
      await fh.close();
    }
  }
}
