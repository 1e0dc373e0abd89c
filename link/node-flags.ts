/**
 * Node flags of the two relaying processes, the intproxy and the agent (given on their command lines:
 * V8 reads heap sizes only at start-up).
 *
 * --max-semi-space-size=1: V8's young generation grows to 16 MiB per semi-space under a burst of
 * allocation (a storm of new connections) and keeps that memory; at 1 MiB the intproxy holds about
 * half the resident memory per relayed connection (bench/many.ts), and bulk relaying, whose garbage
 * is mostly small Buffer handles, is no slower (bench/outgoing.ts).
 */
export const relayNodeFlags: readonly string[] = ['--max-semi-space-size=1'];
