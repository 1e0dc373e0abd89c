// Runs kube/ calls inside the laptop netns for the kube-* cluster tests (kube-laptop.ts spawns it
// with nsenter: node cannot enter a netns itself, and the machine's own netns must never talk to
// cluster addresses). One JSON request per stdin line, one JSON answer per stdout line:
//   → {"id":1,"op":"resolve","args":{...}}
//   ← {"id":1,"ok":true,"result":...}   or   {"id":1,"ok":false,"error":{"code","message","hint","line"}}
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { errorLine } from '../../cli/errors.js';
import { deleteAgent, startAgent, type AgentOptions, type AgentPod } from '../../kube/agent.js';
import { loadKube, type KubeSelection } from '../../kube/client.js';
import { listTargets } from '../../kube/ls.js';
import { openPortForward, type ForwardedStream } from '../../kube/portforward.js';
import { resolveTarget, type PodTarget } from '../../kube/target.js';

type Args = Record<string, any>;
const send = (msg: unknown) => process.stdout.write(`${JSON.stringify(msg)}\n`);

/** Reads from `s.input` until `n` bytes came (or the forward closed), with a deadline. */
function readBytes(s: ForwardedStream, n: number, ms: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => done(new Error(`read ${got} of ${n} bytes in ${ms} ms`)), ms);
    const onData = (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= n) done();
    };
    const onEnd = () => done(new Error(`the forward ended after ${got} of ${n} bytes`));
    function done(err?: Error) {
      clearTimeout(timer);
      s.input.off('data', onData);
      s.input.off('end', onEnd);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    }
    s.input.on('data', onData);
    s.input.on('end', onEnd);
  });
}

const ops: Record<string, (a: Args) => Promise<unknown>> = {
  async loadKube(a) {
    const k = loadKube(a.sel as KubeSelection, { ...process.env, ...(a.env ?? {}) });
    return { context: k.context, user: k.user, server: k.server, namespace: k.namespace, source: k.source };
  },
  async resolve(a) {
    return resolveTarget(loadKube(a.sel), a.path);
  },
  async ls(a) {
    return listTargets(loadKube(a.sel), { allNamespaces: !!a.allNamespaces });
  },
  async startAgent(a) {
    const kube = loadKube(a.sel);
    // `target` (a whole PodTarget) lets a test aim at something resolution would refuse, e.g. a node that does not exist.
    const target: PodTarget | undefined = a.target ?? (a.targetPath ? await resolveTarget(kube, a.targetPath) : undefined);
    const created: AgentPod[] = [];
    const progress: string[] = [];
    const controller = new AbortController();
    if (a.abortAfterMs) setTimeout(() => controller.abort(), a.abortAfterMs);
    const t0 = performance.now();
    try {
      const ref = await startAgent(kube, target, a.opts as AgentOptions, {
        onCreated: (r) => created.push(r),
        onProgress: (t) => progress.push(t),
        signal: controller.signal,
      });
      return { ref, created, target, progress, ms: performance.now() - t0 };
    } catch (err) {
      Object.assign(err as object, { created, progress });
      throw err;
    }
  },
  async deleteAgent(a) {
    await deleteAgent(loadKube(a.sel), a.ref);
    return null;
  },
  /** Opens a forward, sends `bytes` random bytes (or `text`), expects them echoed, closes. */
  async forwardEcho(a) {
    const kube = loadKube(a.sel);
    const t0 = performance.now();
    const s = await openPortForward(kube, a.namespace, a.pod, a.port);
    const opened = performance.now() - t0;
    const payload = a.text !== undefined ? Buffer.from(a.text) : randomBytes(a.bytes);
    const reading = readBytes(s, payload.length, a.timeoutMs ?? 20_000);
    const t1 = performance.now();
    s.output.write(payload);
    let back: Buffer;
    try {
      back = await reading;
    } catch (err) {
      const why = await Promise.race([s.closed, new Promise((r) => setTimeout(() => r(undefined), 200))]);
      s.close();
      throw why instanceof Error ? why : err;
    }
    const ms = performance.now() - t1;
    s.close();
    const closedWith = await s.closed;
    return { same: back.equals(payload), length: back.length, text: a.text !== undefined ? back.toString() : undefined, openMs: opened, ms, closedWith: closedWith ? String(closedWith) : null };
  },
  /** Opens a forward to a port nothing listens on: how `closed` (or the open) reports it. */
  async forwardRefused(a) {
    const kube = loadKube(a.sel);
    const t0 = performance.now();
    let s: ForwardedStream;
    try {
      s = await openPortForward(kube, a.namespace, a.pod, a.port);
    } catch (err) {
      return { where: 'open', code: (err as { code?: string }).code, line: errorLine(err), ms: performance.now() - t0 };
    }
    s.output.write('hello');
    const err = await Promise.race([s.closed, new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000))]);
    let ended = false;
    s.input.on('end', () => (ended = true)).resume();
    await new Promise((r) => setTimeout(r, 50));
    s.close();
    return { where: 'closed', code: (err as { code?: string } | undefined)?.code, line: err instanceof Error ? errorLine(err) : String(err), ms: performance.now() - t0, ended };
  },
  /** Pulls `bytes` from a port that sends that many (e.g. busybox `nc -l -e` serving a file). */
  async forwardDownload(a) {
    const kube = loadKube(a.sel);
    const s = await openPortForward(kube, a.namespace, a.pod, a.port);
    if (a.request) s.output.write(a.request);
    const t0 = performance.now();
    let got = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`downloaded ${got} of ${a.bytes} bytes in ${a.timeoutMs ?? 60_000} ms`)), a.timeoutMs ?? 60_000);
      s.input.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= a.bytes) {
          clearTimeout(timer);
          resolve();
        }
      });
      s.input.on('end', () => reject(new Error(`the forward ended after ${got} of ${a.bytes} bytes`)));
    });
    const ms = performance.now() - t0;
    s.close();
    await s.closed;
    return { length: got, ms, mbps: got / 1e6 / (ms / 1000) };
  },
};

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const { id, op, args } = JSON.parse(line) as { id: number; op: string; args: Args };
  const fn = ops[op];
  if (!fn) {
    send({ id, ok: false, error: { message: `unknown op ${op}` } });
    return;
  }
  fn(args).then(
    (result) => send({ id, ok: true, result }),
    (err: any) => send({ id, ok: false, error: { name: err?.name, code: err?.code, message: String(err?.message ?? err), hint: err?.hint, line: errorLine(err), created: err?.created, progress: err?.progress } }),
  );
});
rl.on('close', () => process.exit(0));
