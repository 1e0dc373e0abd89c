/**
 * One agent session: serves the requests of one intproxy over one link. Requests run concurrently and
 * are answered by id; connection traffic is routed by the session's connection table (link/conns.ts).
 */
import fs from 'node:fs';
import { E, errnoOf } from '../common/errno.js';
import { logger } from '../common/log.js';
import { ConnTable, isConnFrame } from '../link/conns.js';
import type { Link } from '../link/link.js';
import { helloOk } from '../link/hello.js';
import { MAX_FILE_CHUNK } from '../protocol/spec.js';
import type { Message, Unsent } from '../protocol/types.js';
import { TargetResolver, addrConfig } from './dns.js';
import { FileService } from './file.js';
import { LinkSession } from './incoming/delivery.js';
import { agentIncoming, type AgentIncoming } from './incoming/service.js';
import { resolveInRoot } from './rootfs.js';
import { AgentOutgoing } from './outgoing.js';
import type { Target } from './target.js';

const log = logger('agent');

export interface SessionOptions {
  /** The session's token: a Hello must carry it (an agent reached over the network). */
  token?: string;
  /** Called once the peer's Hello was accepted. */
  onGreeted?: () => void;
  /** The target's incoming traffic (default: the agent process's one instance). */
  incoming?: AgentIncoming;
}

let sessions = 0;

/** Why a request cannot be served as it stands (answered EINVAL), or undefined. */
function invalidRequest(m: Message): string | undefined {
  if ('path' in m && typeof m.path === 'string' && (!m.path.startsWith('/') || m.path.includes('\0'))) {
    return `not an absolute path: ${JSON.stringify(m.path.slice(0, 200))}`;
  }
  if (m.type === 'Resolve' && (m.name.length === 0 || m.name.length > 1024 || m.name.includes('\0'))) return 'not a host name';
  return undefined;
}

export class AgentSession {
  private readonly files: FileService;
  private readonly resolver: TargetResolver;
  readonly conns: ConnTable;
  readonly outgoing: AgentOutgoing;
  private readonly incoming: AgentIncoming;
  private incomingSession: LinkSession | undefined;
  private greeted = false;

  constructor(
    private readonly link: Link,
    private readonly target: Target,
    private readonly opts: SessionOptions = {},
  ) {
    this.files = new FileService(target.root);
    this.resolver = new TargetResolver(target.root);
    this.conns = new ConnTable('agent', link, { resetUnknown: true });
    this.outgoing = new AgentOutgoing(link, this.conns);
    this.incoming = opts.incoming ?? agentIncoming();
    link.on('message', (m) => this.dispatch(m));
    link.on('close', () => {
      this.conns.closeAll();
      if (this.incomingSession) void this.incoming.detach(this.incomingSession);
    });
  }

  /** Every frame ends as an answer to that one request, never as an agent exit (issue 13). */
  private dispatch(m: Message): void {
    try {
      const bad = invalidRequest(m);
      if (bad) {
        if (m.id !== 0) this.link.replyError(m, E.EINVAL, `${m.type}: ${bad}`);
        return;
      }
      this.serve(m);
    } catch (err) {
      log.debug('error', `${m.type}: ${(err as Error).message}`);
      if (m.id !== 0) this.link.replyError(m, errnoOf(err), `${m.type}: ${(err as Error).message}`);
    }
  }

  private serve(m: Message): void {
    // Connection frames before Hello are dropped; from Hello on the link routes them to conns itself.
    if (isConnFrame(m)) return;
    if (!this.greeted && m.type !== 'Hello') {
      if (m.id !== 0) this.link.replyError(m, E.EPROTO, 'the first message must be Hello');
      return;
    }
    switch (m.type) {
      case 'Hello':
        // (A Hello of another protocol version never gets here: the link refuses it.)
        if (this.opts.token !== undefined && m.token !== this.opts.token) {
          this.link.replyError(m, E.EACCES, 'this agent belongs to another podlink session (wrong session token)');
          this.link.shutdown(new Error('wrong session token'));
          return;
        }
        this.greeted = true;
        // (Like dispatch: a frame that makes its relay throw ends that frame, never the agent.)
        this.link.routeConns((f) => {
          try {
            this.conns.route(f);
          } catch (err) {
            log.debug('error', `${f.type} on conn ${f.conn}: ${(err as Error).message}`);
          }
        });
        this.incomingSession = new LinkSession(`s${++sessions}`, `the podlink session of ${m.name} (pid ${m.pid})`, this.link, this.conns);
        this.opts.onGreeted?.();
        log.debug('hello', `${m.name} (pid ${m.pid}, podlink ${m.build}) connected; serving ${this.target.describe}`);
        this.link.reply(m, helloOk(process.pid));
        return;
      case 'Ping':
        this.link.reply(m, { type: 'Pong' });
        return;
      case 'Resolve':
        return this.answer(m, async () => ({ type: 'Resolved', ...(await this.resolver.resolve(m.name, m.family)) }));
      case 'GetAddrConfig':
        return this.answer(m, async () => ({ type: 'AddrConfig', ...addrConfig() }));
      case 'Stat':
        return this.answer(m, async () => ({ type: 'StatResult', stat: await this.files.stat(m) }));
      case 'Access':
        return this.answer(m, async () => (await this.files.access(m), { type: 'Ok' }));
      case 'ReadLink':
        return this.answer(m, async () => ({ type: 'Link', target: await this.files.readLink(m) }));
      case 'ReadDir':
        return this.answer(m, async () => ({ type: 'DirEntries', entries: await this.files.readDir(m) }));
      case 'ReadFile':
        // One answer never carries more than a chunk, whatever was asked.
        return this.answer(m, async () => {
          this.notOurStream(m.path);
          return { type: 'FileData', ...(await this.files.readFile({ ...m, max: Math.min(m.max, MAX_FILE_CHUNK) })) };
        });
      case 'WriteFile':
        return this.answer(m, async () => (this.notOurStream(m.path), await this.files.writeFile(m), { type: 'Ok' }));
      case 'GetEnv':
        return this.answer(m, async () => ({ type: 'Env', vars: await this.target.environ() }));
      case 'Subscribe':
        return this.answer(m, async () => {
          const session = this.incomingSession!;
          await this.incoming.subscribe(session, m);
          // The link went away meanwhile: its detach ran before this port was added.
          if (this.link.closed) await this.incoming.unsubscribe(session, m.port);
          return { type: 'Ok' };
        });
      case 'Unsubscribe':
        return this.answer(m, async () => (await this.incoming.unsubscribe(this.incomingSession!, m.port), { type: 'Ok' }));
      case 'TcpConnect':
        return this.outgoing.tcpConnect(m);
      case 'UdpOpen':
        return this.outgoing.udpOpen(m);
      default:
        if (m.id !== 0) this.link.replyError(m, E.EOPNOTSUPP, `the agent does not serve ${m.type}`);
    }
  }

  /**
   * The agent's own stdio is the link: reading /proc/self/fd/0 (or anything that leads to it) would
   * swallow frames, writing it would inject some. Refused, whatever path leads there.
   */
  private notOurStream(path: string): void {
    let st: fs.Stats;
    try {
      st = fs.statSync(resolveInRoot(this.target.root, path, true));
    } catch {
      return; // the real call reports it
    }
    for (const fd of [0, 1, 2]) {
      const own = fs.fstatSync(fd);
      if (own.dev === st.dev && own.ino === st.ino) throw Object.assign(new Error(`${path} is the agent's own link`), { errno: E.EACCES });
    }
  }

  private answer(m: Message, work: () => Promise<Unsent>): void {
    work().then(
      (res) => this.link.reply(m, res),
      (err: unknown) => {
        const errno = errnoOf(err);
        log.debug('error', `${m.type}: ${(err as Error).message}`);
        this.link.replyError(m, errno, (err as Error).message);
      },
    );
  }
}
