/**
 * Answers to Resolve, reused for as long as the target's nameserver said they may be (the `ttl` of
 * Resolved: the smallest record TTL, capped by the agent; 0 for /etc/hosts answers, never kept).
 * A new connection to a service by name then costs one round trip to the agent (Connect) instead of
 * two — over a port-forward through the API server, that round trip is most of a new connection's
 * cost. Only answers are kept, never failures; lookups of one name in flight at once share one
 * request. Like any caching resolver, a record changed in the cluster is seen when its TTL ends
 * (CoreDNS gives cluster names 5 s by default).
 */
import type { MessageOf } from '../protocol/types.js';

type Answer = Omit<MessageOf<'Resolved'>, 'type' | 'id'>;

/** How many names are kept; the oldest is dropped beyond it. */
const MAX_ENTRIES = 1024;

export class DnsCache {
  private readonly answers = new Map<string, { answer: Answer; until: number }>();
  private readonly inFlight = new Map<string, Promise<Answer>>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** The answer for `name` and `family`: kept, in flight, or asked with `ask`. */
  resolve(name: string, family: number, ask: () => Promise<Answer>): Promise<Answer> {
    const key = `${family}:${name}`;
    const kept = this.answers.get(key);
    if (kept && kept.until > this.now()) return Promise.resolve(kept.answer);
    if (kept) this.answers.delete(key);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const p = ask().then(
      (answer) => {
        this.inFlight.delete(key);
        if (answer.ttl > 0) this.keep(key, answer);
        return answer;
      },
      (e: unknown) => {
        this.inFlight.delete(key);
        throw e;
      },
    );
    this.inFlight.set(key, p);
    return p;
  }

  private keep(key: string, answer: Answer): void {
    if (this.answers.size >= MAX_ENTRIES) this.answers.delete(this.answers.keys().next().value!);
    this.answers.set(key, { answer, until: this.now() + answer.ttl * 1000 });
  }
}
