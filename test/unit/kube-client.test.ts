// Which kubeconfig, context and namespace loadKube picks (kube/client.ts), from files in a scratch
// directory: no cluster is contacted (loadKube makes no call).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errorLine } from '../../cli/errors.js';
import { loadKube } from '../../kube/client.js';

function kubeconfig(o: { clusters?: [string, string][]; users?: string[]; contexts?: [string, string, string, string?][]; current?: string }): string {
  const lines = ['apiVersion: v1', 'kind: Config', 'clusters:'];
  for (const [name, server] of o.clusters ?? []) lines.push(`- name: ${name}`, '  cluster:', `    server: ${server}`);
  lines.push('users:');
  for (const u of o.users ?? []) lines.push(`- name: ${u}`, '  user:', `    token: token-of-${u}`);
  lines.push('contexts:');
  for (const [name, cluster, user, ns] of o.contexts ?? []) lines.push(`- name: ${name}`, '  context:', `    cluster: ${cluster}`, `    user: ${user}`, ...(ns ? [`    namespace: ${ns}`] : []));
  if (o.current) lines.push(`current-context: ${o.current}`);
  return `${lines.join('\n')}\n`;
}

describe('loadKube', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  let a: string;
  let b: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'podlink-kube-client-'));
    a = file('a.yaml', kubeconfig({ clusters: [['prod', 'https://prod:6443'], ['shared', 'https://shared-a:6443']], users: ['ann'], contexts: [['prod', 'prod', 'ann', 'payments'], ['shared', 'shared', 'ann']], current: 'prod' }));
    b = file('b.yaml', kubeconfig({ clusters: [['shared', 'https://shared-b:6443'], ['dev', 'https://dev:6443']], users: ['ann', 'bea'], contexts: [['dev', 'dev', 'bea'], ['prod', 'dev', 'bea']], current: 'dev' }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('should use --kubeconfig, its current context and that context\'s namespace', () => {
    const k = loadKube({ kubeconfig: a }, {});
    assert.deepEqual({ context: k.context, user: k.user, server: k.server, namespace: k.namespace, source: k.source },
      { context: 'prod', user: 'ann', server: 'https://prod:6443', namespace: 'payments', source: a });
  });

  it('should prefer -n over the context\'s namespace, and fall back to default', () => {
    assert.equal(loadKube({ kubeconfig: a, namespace: 'x' }, {}).namespace, 'x');
    assert.equal(loadKube({ kubeconfig: a, context: 'shared' }, {}).namespace, 'default');
  });

  it('should merge a KUBECONFIG list with the first file winning, as kubectl does', () => {
    const k = loadKube({}, { KUBECONFIG: `${a}${path.delimiter}${path.join(dir, 'missing.yaml')}${path.delimiter}${b}` });
    assert.equal(k.context, 'prod', 'current-context of the first file');
    assert.equal(k.server, 'https://prod:6443', 'context prod of the first file, not b\'s');
    const shared = loadKube({ context: 'shared' }, { KUBECONFIG: `${a}${path.delimiter}${b}` });
    assert.equal(shared.server, 'https://shared-a:6443', 'cluster shared of the first file');
    const dev = loadKube({ context: 'dev' }, { KUBECONFIG: `${a}${path.delimiter}${b}` });
    assert.deepEqual([dev.server, dev.user], ['https://dev:6443', 'bea'], 'what only the second file defines');
  });

  it('should fall back to ~/.kube/config', () => {
    const home = path.join(dir, 'home');
    mkdirSync(path.join(home, '.kube'), { recursive: true });
    writeFileSync(path.join(home, '.kube', 'config'), kubeconfig({ clusters: [['c', 'https://c:6443']], users: ['u'], contexts: [['c', 'c', 'u']], current: 'c' }));
    const k = loadKube({}, { HOME: home });
    assert.equal(k.server, 'https://c:6443');
    assert.equal(k.source, path.join(home, '.kube', 'config'));
  });

  const errors: [string, () => unknown, string][] = [
    ['a missing --kubeconfig', () => loadKube({ kubeconfig: '/nonexistent/kc' }, {}),
      'podlink: kubeconfig /nonexistent/kc (--kubeconfig) does not exist (give an existing file with --kubeconfig, or set KUBECONFIG)'],
    ['no kubeconfig anywhere', () => loadKube({}, { HOME: '/nonexistent' }),
      'podlink: no kubeconfig: /nonexistent/.kube/config does not exist and KUBECONFIG is not set (give one with --kubeconfig, set KUBECONFIG, or create ~/.kube/config)'],
    ['a KUBECONFIG of missing files', () => loadKube({}, { KUBECONFIG: '/nonexistent/a:/nonexistent/b' }),
      'podlink: no kubeconfig: none of the files in KUBECONFIG exists (/nonexistent/a:/nonexistent/b) (fix KUBECONFIG, or give a file with --kubeconfig)'],
    ['an unknown context', () => loadKube({ kubeconfig: a, context: 'staging' }, {}),
      'podlink: unknown context staging in kubeconfig A; known contexts: prod, shared (pick one of them with --context)'],
  ];
  for (const [what, fn, line] of errors) {
    it(`should say so in one line for ${what}`, () => {
      assert.throws(fn, (e: unknown) => {
        assert.equal(errorLine(e), line.replace(' A;', ` ${a};`));
        return true;
      });
    });
  }

  it('should name the file that is not valid YAML or not a kubeconfig', () => {
    const bad = file('bad.yaml', 'clusters: [\n');
    assert.throws(() => loadKube({ kubeconfig: bad }, {}), (e: any) => e.code === 'KUBE_CONFIG' && e.message.startsWith(`kubeconfig ${bad} (--kubeconfig) is not valid: `));
    const noServer = file('noserver.yaml', 'clusters:\n- name: x\n  cluster: {}\n');
    assert.throws(() => loadKube({ kubeconfig: noServer }, {}), { message: `kubeconfig ${noServer} (--kubeconfig) is not valid: clusters[0].cluster.server is missing` });
    const words = file('words.yaml', 'just some words\n');
    assert.throws(() => loadKube({ kubeconfig: words }, {}), { message: `kubeconfig ${words} (--kubeconfig) is not valid: it defines no clusters, users or contexts` });
  });

  it('should name a file it cannot read', () => {
    // A directory: unreadable as a file even for root (permissions would not be).
    assert.throws(() => loadKube({ kubeconfig: dir }, {}), { code: 'KUBE_CONFIG', message: `cannot read kubeconfig ${dir} (--kubeconfig): EISDIR` });
  });

  it('should say when there is no current context, or it is not defined', () => {
    const none = file('none.yaml', kubeconfig({ clusters: [['c', 'https://c']], users: ['u'], contexts: [['c', 'c', 'u']] }));
    assert.throws(() => loadKube({ kubeconfig: none }, {}), { code: 'KUBE_CONTEXT', message: `kubeconfig ${none} sets no current-context; known contexts: c` });
    const dangling = file('dangling.yaml', kubeconfig({ clusters: [['c', 'https://c']], users: ['u'], contexts: [['c', 'c', 'u']], current: 'gone' }));
    assert.throws(() => loadKube({ kubeconfig: dangling }, {}), { message: `the current-context gone of kubeconfig ${dangling} is not defined in it; known contexts: c` });
    const noCluster = file('nocluster.yaml', kubeconfig({ users: ['u'], contexts: [['c', 'elsewhere', 'u']], current: 'c' }));
    assert.throws(() => loadKube({ kubeconfig: noCluster }, {}), { message: `context c names cluster elsewhere, which kubeconfig ${noCluster} does not define` });
  });
});
