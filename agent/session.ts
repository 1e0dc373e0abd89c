/**
 * One agent session: serves the requests of one intproxy over one link. Requests run concurrently and
 * are answered by id; connection traffic goes to the outgoing relays.
 */
import { E, errnoOf } from '../common/errno.js';
import { logger } from '../common/log.js';
import type { Link } from '../link/link.js';
import { helloOk } from '../link/hello.js';
import type { Message, Unsent } from '../protocol/types.js';
import { TargetResolver } from './dns.js';
import { FileService } from './file.js';
import { AgentOutgoing } from './outgoing.js';
import type { Target } from './target.js';

const log = logger('agent');

export class AgentSession {
  private readonly files: FileService;
  private readonly resolver: TargetResolver;
  readonly outgoing: AgentOutgoing;
  private greeted = false;

  constructor(
    private readonly link: Link,
    private readonly target: Target,
  ) {
    this.files = new FileService(target.root);
    this.resolver = new TargetResolver(target.root);
    this.outgoing = new AgentOutgoing(link);
    link.on('message', (m) => this.dispatch(m));
    link.on('close', () => this.outgoing.closeAll());
  }

  private dispatch(m: Message): void {
    if (!this.greeted && m.type !== 'Hello') {
      if (m.id !== 0) this.link.replyError(m, E.EPROTO, 'the first message must be Hello');
      return;
    }
    switch (m.type) {
      case 'Hello':
        // (A Hello of another protocol version never gets here: the link refuses it.)
        this.greeted = true;
        log.debug('hello', `${m.name} (pid ${m.pid}, podlink ${m.build}) connected; serving ${this.target.describe}`);
        this.link.reply(m, helloOk(process.pid));
        return;
      case 'Ping':
        this.link.reply(m, { type: 'Pong' });
        return;
      case 'Resolve':
        return this.answer(m, async () => ({ type: 'Resolved', ...(await this.resolver.resolve(m.name, m.family)) }));
      case 'Stat':
        return this.answer(m, async () => ({ type: 'StatResult', stat: await this.files.stat(m) }));
      case 'Access':
        return this.answer(m, async () => (await this.files.access(m), { type: 'Ok' }));
      case 'ReadLink':
        return this.answer(m, async () => ({ type: 'Link', target: await this.files.readLink(m) }));
      case 'ReadDir':
        return this.answer(m, async () => ({ type: 'DirEntries', entries: await this.files.readDir(m) }));
      case 'ReadFile':
        return this.answer(m, async () => ({ type: 'FileData', ...(await this.files.readFile(m)) }));
      case 'WriteFile':
        return this.answer(m, async () => (await this.files.writeFile(m), { type: 'Ok' }));
      case 'GetEnv':
        return this.answer(m, async () => ({ type: 'Env', vars: await this.target.environ() }));
      case 'TcpConnect':
        return this.outgoing.tcpConnect(m);
      case 'UdpOpen':
        return this.outgoing.udpOpen(m);
      case 'Data':
      case 'Window':
      case 'Shutdown':
      case 'Close':
        return this.outgoing.onFrame(m);
      default:
        if (m.id !== 0) this.link.replyError(m, E.EOPNOTSUPP, `the agent does not serve ${m.type}`);
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
