/**
 * Node flags of the two relaying processes, the intproxy and the agent (given on their command lines:
 * V8 reads heap sizes only at start-up).
 *
 * --max-semi-space-size=1: V8's young generation grows to 16 MiB per semi-space under a burst of
 * allocation (a storm of new connections) and keeps that memory; at 1 MiB the intproxy holds about
 * half the resident memory per relayed connection (bench/many.ts), and bulk relaying, whose garbage
 * is mostly small Buffer handles, is no slower (bench/outgoing.ts).
 *
 * --single-threaded-gc: V8 otherwise marks concurrently on helper threads, and on a busy machine
 * (the relays share it with the user's program, and on a cluster node with the kubelet, the API
 * server and the runtime) it runs several times as many old-space collections. The intproxy's heap is
 * mostly @kubernetes/client-node (~28 MB), marked whole each time. Measured on the test cluster over
 * a 64 MiB download through the port-forward: the intproxy's CPU (all threads) fell by a third,
 * 19-20 full collections per three downloads became 3-4, and the first download after the session
 * starts moved from 0.67x to 0.77x of `kubectl port-forward` (bench/cluster.ts --only bulk).
 */
export const relayNodeFlags: readonly string[] = ['--max-semi-space-size=1', '--single-threaded-gc'];
