/**
 * Real runtimes under the layer, against the scripted intproxy: node, python3, java (single-file
 * source launch) and curl read a remote file, stat it, list a remote directory, resolve a name,
 * connect over TCP (the peer is the remote), round-trip UDP, write a local file, and start a child with
 * a cleared environment that is still hooked (plus a fork child for python and a node child).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ScriptedIntproxy } from '../helpers/scripted-intproxy.js';
import { LAYER_FIXTURES, T, keyValues, runUnderLayer, scenarioTable, snippetEnv, type RunResult } from '../helpers/layer-run.js';

const CONTENT = 'remote config|line2|';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-runtimes-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function probe(cmd: string, args: (localOut: string) => string[], timeoutMs = 60_000) {
  const proxy = await ScriptedIntproxy.start(scenarioTable());
  const localOut = path.join(tmp, `${path.basename(cmd)}-out.txt`);
  try {
    const r = await runUnderLayer(cmd, args(localOut), { sock: proxy.sockPath, env: snippetEnv(localOut), timeoutMs });
    return { r, kv: keyValues(r.stdout), proxy, localOut };
  } finally {
    await proxy.close();
  }
}

function ok(r: RunResult): string {
  const detail = `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  assert.equal(r.timedOut, false, detail);
  assert.equal(r.code, 0, detail);
  return detail;
}

describe('runtimes under the layer', () => {
  it('python3: file, stat, listdir, DNS, TCP, UDP, local write, cleared-env child, fork child', async () => {
    const { r, kv, proxy, localOut } = await probe('python3', (o) => [path.join(LAYER_FIXTURES, 'probe.py'), o]);
    const detail = ok(r);
    assert.equal(kv.get('read'), CONTENT, detail);
    assert.equal(kv.get('stat'), 'size:20 mode:0o100640', detail);
    assert.equal(kv.get('listdir'), 'config.txt,current,data', detail);
    assert.equal(kv.get('scandir'), 'config.txt,current,data', detail);
    assert.equal(kv.get('resolve'), T.HOST_IP, detail);
    assert.equal(kv.get('peer'), T.TCP, detail);
    assert.equal(kv.get('greeting'), `hello from ${T.TCP}`, detail);
    assert.equal(kv.get('udp'), `echo:py from ${T.UDP}`, detail);
    assert.equal(kv.get('child_cleared_env'), CONTENT, detail);
    assert.equal(kv.get('fork_child'), CONTENT, detail);
    assert.equal(kv.get('after_fork'), CONTENT, detail);
    assert.equal(fs.readFileSync(localOut, 'utf8'), 'written by python\n');
    assert.equal(proxy.seen('WriteFile').length, 0, 'the local write stayed local');
    const parent = proxy.hellos.find((h) => h.name.startsWith('python'));
    assert.ok(parent && proxy.hellos.some((h) => h.ppid === parent.pid && h.name.startsWith('python')), JSON.stringify(proxy.hellos));
    assert.ok(proxy.hellos.some((h) => h.name === 'cat'), JSON.stringify(proxy.hellos));
  });

  it('node: sync and async reads, statx, readdirSync (scandir64), dns.lookup, net, dgram, children', async () => {
    const { r, kv, proxy, localOut } = await probe(process.execPath, (o) => [path.join(LAYER_FIXTURES, 'probe.mjs'), o]);
    const detail = ok(r);
    assert.equal(kv.get('read'), CONTENT, detail);
    assert.equal(kv.get('read_async'), CONTENT, detail);
    assert.equal(kv.get('stat'), 'size:20 mode:100640', detail);
    assert.equal(kv.get('listdir'), 'config.txt,current,data', detail);
    assert.equal(kv.get('resolve'), T.HOST_IP, detail);
    assert.equal(kv.get('peer'), T.TCP, detail);
    assert.equal(kv.get('greeting'), `hello from ${T.TCP}`, detail);
    assert.equal(kv.get('udp'), `echo:node from ${T.UDP}`, detail);
    assert.equal(kv.get('child_cleared_env'), CONTENT, detail);
    assert.equal(kv.get('node_child'), CONTENT, detail);
    assert.equal(fs.readFileSync(localOut, 'utf8'), 'written by node\n');
    assert.equal(proxy.seen('WriteFile').length, 0);
  });

  it('java: Files, File.list, Files.list (open + fdopendir), InetAddress, Socket (IPv4-mapped IPv6), DatagramSocket, cleared ProcessBuilder env', async () => {
    const { r, kv, proxy, localOut } = await probe('java', (o) => [path.join(LAYER_FIXTURES, 'Probe.java'), o], 120_000);
    const detail = ok(r);
    assert.equal(kv.get('read'), CONTENT, detail);
    assert.equal(kv.get('stat'), 'size:20', detail);
    assert.equal(kv.get('listdir'), 'config.txt,current,data', detail);
    assert.equal(kv.get('files_list'), 'config.txt,current,data', detail);
    assert.equal(kv.get('resolve'), T.HOST_IP, detail);
    assert.equal(kv.get('peer'), T.TCP, detail);
    assert.equal(kv.get('greeting'), `hello from ${T.TCP}`, detail);
    assert.equal(kv.get('udp'), `echo:java from ${T.UDP}`, detail);
    assert.equal(kv.get('child_cleared_env'), CONTENT, detail);
    assert.equal(fs.readFileSync(localOut, 'utf8'), 'written by java\n');
    assert.equal(proxy.seen('WriteFile').length, 0);
    // Java connects dual-stack sockets to ::ffff:a.b.c.d; the layer must have sent it as IPv4.
    assert.ok(proxy.seen('Connect').every((c) => c.remote.family === 4), JSON.stringify(proxy.seen('Connect')));
  });

  it('env -i and a shell chain: children with an emptied environment are still hooked', async () => {
    const a = await probe('env', () => ['-i', 'cat', T.FILE]);
    ok(a.r);
    assert.equal(a.r.stdout, T.FILE_CONTENT);
    const b = await probe('sh', () => ['-c', `env -i sh -c 'cat ${T.FILE}; echo "io_uring=$UV_USE_IO_URING"'`]);
    ok(b.r);
    assert.equal(b.r.stdout, `${T.FILE_CONTENT}io_uring=0\n`);
    assert.ok(b.proxy.hellos.some((h) => h.name === 'cat'), JSON.stringify(b.proxy.hellos));
  });

  it('curl: a remote file:// URL, and HTTP to a cluster name', async () => {
    const { r } = await probe('curl', () => ['-sS', `file://${T.FILE}`]);
    ok(r);
    assert.equal(r.stdout, T.FILE_CONTENT);
    const http = await probe('curl', (o) => ['-sS', '-o', o, '-w', '%{remote_ip}:%{remote_port} %{http_code}', `http://${T.HOST}/`]);
    ok(http.r);
    assert.equal(http.r.stdout, `${T.HOST_IP}:80 200`);
    assert.equal(fs.readFileSync(http.localOut, 'utf8'), `hello over http (via ${T.HOST_IP}:80)\n`);
  });
});
