/**
 * Steal's redirect, in the target's network namespace (the agent already runs inside it): one
 * nftables table of podlink's own, created with `flags owner` by an `nft -i` child of the agent. The
 * kernel ties an owner table to the netlink socket that created it, so the table — every redirect
 * rule — disappears the moment that `nft` process goes: when the agent exits, is SIGKILLed, or its
 * container or pod is killed (`nft` reads its commands from the agent's pipe and exits at its end).
 * No watchdog, no clean-up pass, nothing to leave behind. Needs kernel ≥ 5.12 and nft ≥ 1.0 (owner
 * tables), and CAP_NET_ADMIN.
 *
 *   table inet podlink_<random> {
 *     flags owner
 *     chain prerouting {   # callers in other pods (and other hosts)
 *       type nat hook prerouting priority dstnat + 10
 *       tcp dport P fib daddr type local redirect to :Q            (one per stolen port P)
 *     }
 *     chain output {       # callers inside the pod over its own addresses (a mesh sidecar, localhost)
 *       type nat hook output priority -90
 *       meta nfproto ipv4 tcp dport P fib daddr type local ip saddr != 127.0.0.254 redirect to :Q
 *     }
 *     chain input {        # Q is only reachable through the redirect
 *       type filter hook input priority -10
 *       tcp dport Q ct status dnat accept
 *       tcp dport Q drop
 *     }
 *   }
 *
 * `fib daddr type local` keeps the pod's own outgoing connections to port P elsewhere untouched. The
 * agent's pass-through connections to the original app (unmatched requests) leave from 127.0.0.254,
 * which the output rule exempts (Istio exempts its own sidecar the same way, from 127.0.0.6). The
 * priorities put a service mesh's inbound redirect first: its sidecar then reaches the app over
 * localhost, and that hop is what the output chain takes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { logger } from '../../common/log.js';

const log = logger('agent');

/** Source address of the agent's own connections to the original app: never redirected. */
export const PASSTHROUGH_SOURCE = '127.0.0.254';

/** The redirect is not available here: the message says why and what is missing. */
export class RedirectUnavailable extends Error {
  override readonly name = 'RedirectUnavailable';
}

/** The table's rules for a set of redirects (stolen port → the agent's port). */
export function redirectRules(table: string, redirects: ReadonlyMap<number, number>): string[] {
  const t = `inet ${table}`;
  const lines = [`flush chain ${t} prerouting`, `flush chain ${t} output`, `flush chain ${t} input`];
  for (const [port, to] of redirects) {
    lines.push(`add rule ${t} prerouting tcp dport ${port} fib daddr type local redirect to :${to}`);
    lines.push(`add rule ${t} output meta nfproto ipv4 tcp dport ${port} fib daddr type local ip saddr != ${PASSTHROUGH_SOURCE} redirect to :${to}`);
    lines.push(`add rule ${t} input tcp dport ${to} ct status dnat accept`);
    lines.push(`add rule ${t} input tcp dport ${to} drop`);
  }
  return lines;
}

/** The table and its chains, created once. */
export function tableRules(table: string): string[] {
  const t = `inet ${table}`;
  return [
    `add table ${t} { flags owner; }`,
    `add chain ${t} prerouting { type nat hook prerouting priority dstnat + 10; policy accept; }`,
    `add chain ${t} output { type nat hook output priority -90; policy accept; }`,
    `add chain ${t} input { type filter hook input priority -10; policy accept; }`,
  ];
}

/** The `nft` owners still running (each holds its table). */
const owners = new Set<ChildProcess>();

/**
 * Ends every `nft` owner and waits (at most `ms`) until they are gone, and their tables with them: an
 * agent about to exit calls it, so that whoever waits for the agent's exit finds the pod's ruleset as
 * it was (the kernel would remove the tables anyway, a moment after `nft` reads the end of its pipe).
 */
export async function redirectsGone(ms = 2000): Promise<void> {
  const live = [...owners];
  if (!live.length) return;
  for (const nft of live) nft.stdin?.end();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(live.map((nft) => new Promise<void>((resolve) => (owners.has(nft) ? nft.once('exit', () => resolve()) : resolve())))),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
}

export class Redirector {
  readonly table = `podlink_${randomBytes(4).toString('hex')}`;
  private readonly nft: ChildProcess;
  private stdout = '';
  private stderr = '';
  private exited: string | undefined;
  private readonly redirects = new Map<number, number>();
  /** Changes apply one after the other, each confirmed by listing the table. */
  private queue: Promise<void> = Promise.resolve();
  private waiter: (() => void) | undefined;

  private constructor(nft: string) {
    this.nft = spawn(nft, ['-i'], { stdio: ['pipe', 'pipe', 'pipe'] });
    owners.add(this.nft);
    this.nft.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.waiter?.();
    });
    this.nft.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.waiter?.();
    });
    this.nft.stdin!.on('error', () => undefined);
    const gone = (why: string): void => {
      owners.delete(this.nft);
      this.exited ??= why;
      this.waiter?.();
    };
    this.nft.once('error', (e) => gone(`cannot run ${nft}: ${e.message}`));
    this.nft.once('exit', (code, sig) => gone(`nft exited (${sig ?? `status ${code}`})`));
  }

  /** Starts `nft -i` and creates the owner table; RedirectUnavailable when that cannot be done here. */
  static async start(nft = process.env['PODLINK_NFT'] ?? 'nft'): Promise<Redirector> {
    const r = new Redirector(nft);
    try {
      await r.apply(tableRules(r.table), (listing) => listing.includes('flags owner'));
    } catch (e) {
      r.stop();
      const why = (e as Error).message;
      const hint = /owner|syntax error|unexpected/i.test(why)
        ? 'nftables with owner tables is needed (kernel ≥ 5.12, nft ≥ 1.0)'
        : /ENOENT|cannot run/.test(why)
          ? 'the nft program is needed next to the agent'
          : /Operation not permitted|EPERM/i.test(why)
            ? 'the agent needs CAP_NET_ADMIN in the target\'s network namespace'
            : 'nftables is needed in the target\'s network namespace';
      throw new RedirectUnavailable(`${hint}: ${why}`);
    }
    log.debug('redirect', `nftables table ${r.table} created (owner: nft pid ${r.nft.pid})`);
    return r;
  }

  /** Redirect the target's port to the agent's port `to` (replacing an earlier redirect of it). */
  add(port: number, to: number): Promise<void> {
    this.redirects.set(port, to);
    return this.sync(port, true);
  }

  remove(port: number): Promise<void> {
    this.redirects.delete(port);
    return this.sync(port, false);
  }

  private sync(port: number, present: boolean): Promise<void> {
    const lines = redirectRules(this.table, this.redirects);
    return this.apply([lines.join('; ')], (listing) => listing.includes(`dport ${port} `) === present);
  }

  /**
   * Writes `commands` (one transaction per line) and then lists the table: `ok` judges the listing,
   * so success never depends on the order in which nft's stdout and stderr arrive.
   */
  private apply(commands: string[], ok: (listing: string) => boolean): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.exited) throw new Error(this.exited);
      this.stdout = '';
      this.stderr = '';
      this.nft.stdin!.write(`${commands.join('\n')}\nlist table inet ${this.table}\n`);
      const listing = await this.listing();
      if (!ok(listing)) throw new Error(this.stderr.trim().split('\n')[0] || 'nft did not apply the rules');
    };
    const p = this.queue.then(run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** The next complete `list table` output (it ends with the table's closing brace). */
  private listing(): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const end = this.stdout.search(/^}\n/m);
        if (end >= 0) {
          this.waiter = undefined;
          resolve(this.stdout.slice(0, end + 2));
        } else if (this.exited) {
          this.waiter = undefined;
          reject(new Error(`${this.stderr.trim().split('\n')[0] || this.exited}`));
        } else if (/Error:/.test(this.stderr) && /No such file or directory|does not exist/.test(this.stderr) && !this.stdout) {
          this.waiter = undefined;
          reject(new Error(this.stderr.trim().split('\n')[0]!));
        }
      };
      this.waiter = check;
      check();
    });
  }

  /** Ends `nft`, and with it the table. (The agent exiting does the same without asking.) */
  stop(): void {
    this.nft.stdin!.end();
  }
}
