/**
 * The agent reached over the network (a pod on the cluster, through the API server's port-forward):
 * it listens on a loopback port of its own pod and serves one intproxy link at a time.
 *
 *   - A link counts once its Hello carries the session's token. A later good Hello on a new
 *     connection replaces the current link (the intproxy reconnecting after a drop); the old link's
 *     relayed connections are reset, everything else carries on.
 *   - The intproxy pings every few seconds; a link that stays silent for `idleMs` is dropped (a
 *     port-forward can die without the agent's socket seeing a FIN).
 *   - With no link for `graceMs` (also before the first one) the agent exits: even a laptop that
 *     vanished cannot leave it running. SIGTERM (the pod being deleted) ends it at once.
 */
import type net from 'node:net';
import { logger } from '../common/log.js';
import { Link } from '../link/link.js';
import { AgentSession } from './session.js';
import type { Target } from './target.js';

const log = logger('agent');

export interface ListenOptions {
  token: string;
  /** Exit after this long without an accepted link. */
  graceMs: number;
  /** Drop a link that has been silent this long. */
  idleMs: number;
  /** How long a new connection has to say a good Hello. */
  helloMs?: number;
}

interface Peer {
  socket: net.Socket;
  link: Link;
  lastSeen: number;
}

export class AgentListener {
  private current: Peer | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private readonly idleTimer: NodeJS.Timeout;

  constructor(
    private readonly server: net.Server,
    private readonly target: Target,
    private readonly opts: ListenOptions,
    private readonly exit: (why: string) => void,
  ) {
    server.on('connection', (socket) => this.accept(socket));
    this.idleTimer = setInterval(() => this.checkIdle(), Math.min(1000, opts.idleMs / 4));
    this.armGrace();
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const link = new Link(socket, socket, undefined, { self: 'the agent image', peer: 'the podlink CLI' });
    const peer: Peer = { socket, link, lastSeen: Date.now() };
    socket.on('data', () => (peer.lastSeen = Date.now()));
    const helloTimer = setTimeout(() => socket.destroy(), this.opts.helloMs ?? 10_000);
    new AgentSession(link, this.target, { token: this.opts.token, onGreeted: () => (clearTimeout(helloTimer), this.promote(peer)) });
    link.on('close', (reason) => {
      clearTimeout(helloTimer);
      socket.destroy();
      if (this.current !== peer) return;
      this.current = undefined;
      log.debug('link', `link closed (${reason?.message ?? 'end'}); exiting unless the intproxy is back within ${this.opts.graceMs / 1000} s`);
      this.armGrace();
    });
  }

  private promote(peer: Peer): void {
    const old = this.current;
    this.current = peer;
    this.disarmGrace();
    if (old) {
      log.debug('link', 'a new link of this session replaces the current one');
      old.link.shutdown(new Error('replaced by a new link of the same session'));
    }
  }

  private checkIdle(): void {
    const peer = this.current;
    if (peer && Date.now() - peer.lastSeen > this.opts.idleMs) {
      log.debug('link', `no frame for ${this.opts.idleMs / 1000} s: dropping the link`);
      peer.socket.destroy();
      peer.link.shutdown(new Error('link silent'));
    }
  }

  private armGrace(): void {
    this.disarmGrace();
    this.graceTimer = setTimeout(() => this.exit(`no podlink session for ${this.opts.graceMs / 1000} s`), this.opts.graceMs);
  }

  private disarmGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  close(): void {
    clearInterval(this.idleTimer);
    this.disarmGrace();
    this.server.close();
    this.current?.link.shutdown(new Error('agent stopping'));
  }
}
