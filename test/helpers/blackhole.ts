/**
 * Issue 13's non-blocking connects to a port that drops SYNs (a firewalled service), shared by the
 * layer's tests (real-programs-connect) and the supervisor's (supervisor-same-as-layer): node's event
 * loop keeps running and the error arrives through SO_ERROR; python sees EINPROGRESS, EALREADY, then
 * ETIMEDOUT; a connect the program closes is abandoned in the target at once while another one to the
 * same host goes on. `exec` gives the command line that runs a program under podlink from the laptop.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { PORTS } from './matrix.js';
import type { World } from './world.js';

/** A second SYN-dropping port of pod B. */
export const KEPT = 82;

/** Pod B drops every SYN to PORTS.blackhole and KEPT. */
export async function dropSyns(world: World): Promise<void> {
  for (const port of [PORTS.blackhole, KEPT]) {
    const r = await world.runIn(world.podB.netns, 'iptables', ['-w', '-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'DROP']);
    assert.equal(r.code, 0, r.stderr);
  }
}

export function blackholeConnectCases(world: () => World, exec: (command: string[]) => [string, string[]]): void {
  const run = (command: string[]) => world().runIn(world().laptop, ...exec(command), { timeoutMs: 120_000 });

  it('node: the timer fires while connecting (the loop is not blocked); the error comes through SO_ERROR', async () => {
    const js = `const s = require('net').connect({ host: ${JSON.stringify(world().podB.ip)}, port: ${PORTS.blackhole} });
setImmediate(() => setTimeout(() => console.log('timer, connecting=' + s.connecting), 100));
s.on('connect', () => console.log('connected?!'));
s.on('error', (e) => console.log('error ' + e.code + ' from ' + e.syscall));`;
    const r = await run([process.execPath, '-e', js]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'timer, connecting=true\nerror ETIMEDOUT from connect\n');
  });

  it('python: EINPROGRESS at once, EALREADY on a second connect, ETIMEDOUT from SO_ERROR', async () => {
    const ip = JSON.stringify(world().podB.ip);
    const py = `import errno, select, socket
s = socket.socket(); s.setblocking(False)
print(errno.errorcode[s.connect_ex((${ip}, ${PORTS.blackhole}))])
print(errno.errorcode[s.connect_ex((${ip}, ${PORTS.blackhole}))])
select.select([], [s], [])
print(errno.errorcode[s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)])`;
    const r = await run(['python3', '-c', py]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'EINPROGRESS\nEALREADY\nETIMEDOUT\n');
  });

  it('a connect the program closes is abandoned in the target at once; one it keeps goes on', async () => {
    const w = world();
    // The kept connect starts first: without abandonment, it would also give up first.
    const py = `import select, socket, sys
def start(port):
    s = socket.socket(); s.setblocking(False); s.connect_ex((${JSON.stringify(w.podB.ip)}, port)); return s
kept = start(${KEPT}); dropped = start(${PORTS.blackhole})
print("started", flush=True)
sys.stdin.readline()
dropped.close()
print("closed", flush=True)
select.select([], [kept], [])
print("kept", kept.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), flush=True)`;
    const child = w.spawnIn(w.laptop, ...exec(['python3', '-c', py]), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const synSent = async (): Promise<number[]> => {
      const r = await w.runIn(w.podA.netns, 'ss', ['-Htn', 'state', 'syn-sent']);
      return [...r.stdout.matchAll(new RegExp(`${w.podB.ip.replace(/\./g, '\\.')}:(\\d+)`, 'g'))].map((m) => Number(m[1])).sort();
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
    await until('the program closed one', () => out.includes('closed'));
    // The abandoned one disappears from the target while the kept one (older) is still trying.
    await until('only the kept connect left in the target', async () => (await synSent()).length === 1);
    assert.deepEqual(await synSent(), [KEPT]);
    assert.equal(await exited, 0);
    assert.equal(out, 'started\nclosed\nkept 110\n');
  });
}
