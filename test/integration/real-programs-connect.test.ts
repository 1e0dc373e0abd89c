/**
 * Issue 13 matrix, part 3: non-blocking connects under podlink behave as the kernel's do. Pod B drops
 * every SYN to two ports (a firewalled service). node's event loop keeps running (its timer fires while
 * the connect is still in progress) and the error arrives through SO_ERROR; Python sees EINPROGRESS,
 * then EALREADY, then ETIMEDOUT from SO_ERROR once the target gives up; and a connect the app abandons
 * (closes) is abandoned in the target at once, while another one to the same host is still trying.
 * Needs root.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLI, PORTS } from '../helpers/matrix.js';
import { createWorld, type World } from '../helpers/world.js';
import { podlinkExec } from '../helpers/matrix.js';

const KEPT = 82; // a second SYN-dropping port

describe('real programs: non-blocking connect to a port that drops SYNs', () => {
  let world: World;

  before(async () => {
    world = await createWorld();
    for (const port of [PORTS.blackhole, KEPT]) {
      const r = await world.runIn(world.podB.netns, 'iptables', ['-w', '-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(() => world?.destroy());

  it('node: the timer fires while connecting (the loop is not blocked); the error comes through SO_ERROR', async () => {
    const js = `const s = require('net').connect({ host: ${JSON.stringify(world.podB.ip)}, port: ${PORTS.blackhole} });
setImmediate(() => setTimeout(() => console.log('timer, connecting=' + s.connecting), 100));
s.on('connect', () => console.log('connected?!'));
s.on('error', (e) => console.log('error ' + e.code + ' from ' + e.syscall));`;
    const r = await podlinkExec(world, world.podA.pid, [process.execPath, '-e', js]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'timer, connecting=true\nerror ETIMEDOUT from connect\n');
  });

  it('python: EINPROGRESS at once, EALREADY on a second connect, ETIMEDOUT from SO_ERROR', async () => {
    const py = `import errno, select, socket
s = socket.socket(); s.setblocking(False)
print(errno.errorcode[s.connect_ex((${JSON.stringify(world.podB.ip)}, ${PORTS.blackhole}))])
print(errno.errorcode[s.connect_ex((${JSON.stringify(world.podB.ip)}, ${PORTS.blackhole}))])
select.select([], [s], [])
print(errno.errorcode[s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)])`;
    const r = await podlinkExec(world, world.podA.pid, ['python3', '-c', py]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'EINPROGRESS\nEALREADY\nETIMEDOUT\n');
  });

  it('a connect the app closes is abandoned in the target at once; one it keeps goes on', async () => {
    // The kept connect starts first: without abandonment, it would also give up first.
    const py = `import select, socket, sys
def start(port):
    s = socket.socket(); s.setblocking(False); s.connect_ex((${JSON.stringify(world.podB.ip)}, port)); return s
kept = start(${KEPT}); dropped = start(${PORTS.blackhole})
print("started", flush=True)
sys.stdin.readline()
dropped.close()
print("closed", flush=True)
select.select([], [kept], [])
print("kept", kept.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), flush=True)`;
    const child = world.spawnIn(world.laptop, process.execPath, [CLI, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', 'python3', '-c', py], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const synSent = async (): Promise<number[]> => {
      const r = await world.runIn(world.podA.netns, 'ss', ['-Htn', 'state', 'syn-sent']);
      return [...r.stdout.matchAll(new RegExp(`${world.podB.ip.replace(/\./g, '\\.')}:(\\d+)`, 'g'))].map((m) => Number(m[1])).sort();
    };
    const until = async (what: string, ok: () => boolean | Promise<boolean>): Promise<void> => {
      for (let i = 0; !(await ok()); i++) {
        if (i > 2000) throw new Error(`never: ${what} (output so far: ${out})`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await until('both connects in flight from the target', async () => out.includes('started') && (await synSent()).length === 2);
    assert.deepEqual(await synSent(), [PORTS.blackhole, KEPT]);
    child.stdin!.write('\n');
    await until('the app closed one', () => out.includes('closed'));
    // The abandoned one disappears from the target while the kept one (older) is still trying.
    await until('only the kept connect left in the target', async () => {
      const ports = await synSent();
      return ports.length === 1;
    });
    assert.deepEqual(await synSent(), [KEPT]);
    assert.equal(await exited, 0);
    assert.equal(out, 'started\nclosed\nkept 110\n');
  });
});
