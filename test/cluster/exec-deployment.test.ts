/**
 * The main job, on the real cluster: `podlink exec -t deployment/service-a` run from the laptop netns
 * (which reaches only the API server), with real node, python3, java and curl under the real layer,
 * intproxy and agent. Each program must see service-a's environment exactly as `kubectl exec … env`
 * shows it (Secret- and ConfigMap-sourced included, minus what feature.env excludes by default), read
 * its ConfigMap-mounted file and its service-account token, resolve service-b by its short and full
 * name to the Service's ClusterIP, and call it — and service-b's answer carries service-c's, so the
 * chain a → b → c works from the laptop. Targetless, curl reaches service-c by its full name. No
 * agent pod or Job is left afterwards.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { DEFAULT_ENV_EXCLUDE } from '../../config/feature/env.js';
import { REPO, type ClusterEnv, clusterEnv, inLaptop, kubectl, kubectlJson, podOf, run } from './cluster.js';
import { agentPods, podlinkArgv } from './podlink.js';

const probes = path.join(REPO, 'test', 'fixtures', 'kube');
const FILES = ['/app/config/settings.json', '/var/run/secrets/kubernetes.io/serviceaccount/token'];

interface Report {
  env: Record<string, string>;
  files: string[];
  resolvedShort: string;
  resolvedFqdn: string;
  hostname: string;
  http: { service: string; pod: string; next: { service: string } };
}

function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

describe('podlink exec -t deployment/service-a, from the laptop netns', () => {
  let env: ClusterEnv;
  let pod: string;
  let remoteEnv: Record<string, string>;
  let files: string[];
  let clusterIp: string;

  before(async () => {
    env = clusterEnv();
    pod = (await podOf(env, 'service-a')).name;
    remoteEnv = parseEnv(await kubectl(env, ['exec', pod, '--', 'env']));
    files = await Promise.all(FILES.map((f) => kubectl(env, ['exec', pod, '--', 'cat', f])));
    clusterIp = (await kubectlJson(env, ['get', 'service', 'service-b'])).spec.clusterIP;
  });

  const cfg = JSON.stringify({ short: 'service-b', fqdn: 'service-b.default.svc.cluster.local', url: 'http://service-b:8080/', files: FILES });
  const runtimes: [string, string[]][] = [
    ['node', ['node', path.join(probes, 'probe.mjs'), cfg]],
    ['python3', ['python3', path.join(probes, 'probe.py'), cfg]],
    ['java', ['java', path.join(probes, 'Probe.java'), cfg]],
  ];

  for (const [name, command] of runtimes) {
    it(`should give ${name} service-a's env, files, DNS, network and hostname`, async () => {
      const [cmd, args] = inLaptop(env, podlinkArgv(env, ['exec', '-q', '-t', 'deployment/service-a', '--', ...command]));
      const r = await run(cmd, args, { cwd: REPO, timeoutMs: 180_000 });
      assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.stderr}`);
      const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as Report;
      // HOSTNAME is the pod's name in the pod; kubectl exec's own variables are not the pod's.
      for (const [k, v] of Object.entries(remoteEnv)) {
        if (DEFAULT_ENV_EXCLUDE.includes(k)) continue;
        assert.equal(report.env[k], v, `${name}: ${k}`);
      }
      assert.equal(report.env['API_TOKEN'], 'podlink-demo-token-7f3a', 'the Secret-sourced variable');
      assert.equal(report.env['GREETING'], 'hello from the podlink test cluster', 'the ConfigMap-sourced variable');
      // (pyenv's python shim puts its own directories in front)
      assert.ok(report.env['PATH']!.endsWith(process.env['PATH']!), `PATH stays the laptop's (feature.env excludes it): ${report.env['PATH']}`);
      assert.deepEqual(report.files, files);
      assert.equal(report.resolvedShort, clusterIp);
      assert.equal(report.resolvedFqdn, clusterIp);
      assert.equal(report.hostname, pod, "the pod's hostname (feature.hostname)");
      assert.equal(report.http.service, 'service-b');
      assert.equal(report.http.next.service, 'service-c', "service-b's answer carries service-c's");
      assert.deepEqual(await agentPods(env), [], 'no agent pod or Job is left');
    });
  }

  it('should give curl and a shell chain the same: service-b by its short name, the mounted file', async () => {
    const script = `curl -sS -m 20 -w '\\n%{remote_ip}\\n' http://service-b:8080/whoami && cat ${FILES[0]}`;
    const [cmd, args] = inLaptop(env, podlinkArgv(env, ['exec', '-q', '-t', 'deployment/service-a', '--', 'sh', '-c', script]));
    const r = await run(cmd, args, { cwd: REPO, timeoutMs: 120_000 });
    assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.stderr}`);
    const lines = r.stdout.split('\n');
    assert.equal(JSON.parse(lines[0]!).service, 'service-b');
    assert.equal(lines[2], clusterIp);
    assert.equal(lines.slice(3).join('\n'), files[0]);
  });

  it('should reach service-c by its full name with no target (targetless), keeping the machine\'s hostname', async () => {
    const script = 'curl -sS -m 20 http://service-c.default.svc.cluster.local:8080/whoami && echo && hostname';
    const [cmd, args] = inLaptop(env, podlinkArgv(env, ['exec', '-q', '--', 'sh', '-c', script]));
    const r = await run(cmd, args, { cwd: REPO, timeoutMs: 120_000 });
    assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    assert.equal(JSON.parse(lines[0]!).service, 'service-c');
    assert.equal(lines.at(-1), os.hostname(), 'no target: the hostname stays the machine\'s, not the agent pod\'s');
    assert.deepEqual(await agentPods(env), [], 'no agent pod or Job is left');
  });

  it('should carry the session over the WebSocket port-forward by default, and over SPDY/3.1 when asked', async () => {
    for (const [env0, protocol] of [[[], 'WebSocket'], [['PODLINK_PORT_FORWARD=spdy'], 'SPDY/3.1']] as const) {
      const argv = podlinkArgv(env, ['exec', '-q', '-t', 'deployment/service-a', '--', 'curl', '-sS', '-m', '20', 'http://service-b:8080/whoami']);
      const [cmd, args] = inLaptop(env, ['env', 'PODLINK_DEBUG=1', ...env0, ...argv]);
      const r = await run(cmd, args, { cwd: REPO, timeoutMs: 120_000 });
      assert.equal(r.code, 0, `exit ${r.code}; stderr: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).service, 'service-b');
      const used = [...r.stderr.matchAll(/port-forward: to \S+ over (\S+)/g)].map((m) => m[1]);
      assert.ok(used.length > 0 && used.every((p) => p === protocol), `${protocol} expected; the intproxy said: ${used.join(', ')}`);
    }
    assert.deepEqual(await agentPods(env), [], 'no agent pod or Job is left');
  });
});
