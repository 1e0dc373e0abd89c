// docs/rbac.md gives the roles a developer needs; testcluster/manifests/podlink-rbac.yaml applies
// them in the test cluster, where the cluster tests prove them enough. This keeps the two the same.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function docsOf(text: string): any[] {
  return parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean);
}

describe('docs/rbac.md and the test cluster\'s roles', () => {
  const doc = readFileSync(path.join(ROOT, 'docs/rbac.md'), 'utf8');
  const fromDoc = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m) => docsOf(m[1]!));
  const fromManifest = docsOf(readFileSync(path.join(ROOT, 'testcluster/manifests/podlink-rbac.yaml'), 'utf8'));
  const find = (list: any[], kind: string) => list.find((o) => o.kind === kind);

  for (const kind of ['ClusterRole', 'Role']) {
    it(`should apply the ${kind} exactly as the doc gives it`, () => {
      const a = find(fromDoc, kind);
      const b = find(fromManifest, kind);
      assert.ok(a, `docs/rbac.md has a ${kind}`);
      assert.ok(b, `podlink-rbac.yaml has a ${kind}`);
      assert.deepEqual(b, a);
    });
  }

  it('should give the Role the same rules as the ClusterRole', () => {
    assert.deepEqual(find(fromDoc, 'Role').rules, find(fromDoc, 'ClusterRole').rules);
  });

  it('should bind alice to the Role in default and bob to the ClusterRole cluster-wide', () => {
    const rb = find(fromManifest, 'RoleBinding');
    assert.deepEqual([rb.metadata.namespace, rb.roleRef.kind, rb.roleRef.name, rb.subjects[0].name], ['default', 'Role', 'podlink', 'alice']);
    const crb = find(fromManifest, 'ClusterRoleBinding');
    assert.deepEqual([crb.roleRef.kind, crb.roleRef.name, crb.subjects[0].name], ['ClusterRole', 'podlink-developer', 'bob']);
  });
});
