/**
 * The JSON Schema editors use: a standard validator (ajv) accepts every sample file and rejects the
 * structural mistakes; the committed podlink.schema.json, README.md section and docs/config.md
 * match what the schema generates.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import AjvModule from 'ajv';
import { END, README_EXAMPLE, START, withReadmeSection } from '../../tools/gen/config-docs.js';
import { loadConfig, unavailableFeatures } from '../../config/load.js';
import { formatOf, parseConfigText } from '../../config/parse.js';
import { jsonSchema } from '../../config/schema.js';
import { renderTemplates } from '../../config/template.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = path.join(root, 'test/fixtures/config');
const Ajv = AjvModule.default;

/** A fixture as an editor sees it after podlink renders it: templates filled, comments gone. */
async function document(rel: string): Promise<unknown> {
  const text = fs.readFileSync(path.join(fixtures, rel), 'utf8');
  const format = formatOf(rel)!;
  return parseConfigText(renderTemplates(text, { env: { USER: 'alice' }, format, source: rel }), format, rel);
}

const files = (dir: string) => fs.readdirSync(path.join(fixtures, dir)).map((f) => `${dir}/${f}`);

describe('JSON Schema', () => {
  const validate = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true }).compile(jsonSchema());

  const valid = [...files('valid'), ...files('mirrord').filter((f) => !f.includes('unsupported'))];
  for (const rel of valid) {
    it(`should accept ${rel}`, async () => {
      assert.ok(validate(await document(rel)), JSON.stringify(validate.errors));
    });
  }

  const structural: [string, string][] = [
    ['invalid/fs-mode-typo.yaml', '/feature/fs'],
    ['invalid/unknown-key.toml', '/feature/fs'],
    ['invalid/unsupported-key.json', '/feature'],
    ['invalid/operator-true.yaml', '/operator'],
    ['invalid/wrong-type.toml', '/agent/ttl'],
    ['invalid/top-level-list.json', ''],
    ['mirrord/unsupported-operator-features.json', '/feature'],
  ];
  for (const [rel, where] of structural) {
    it(`should reject ${rel} at ${where || 'the top'}`, async () => {
      assert.equal(validate(await document(rel)), false);
      assert.ok(validate.errors!.some((e) => e.instancePath === where), JSON.stringify(validate.errors));
    });
  }

  it('should be draft-07 with descriptions on every key', () => {
    const schema = jsonSchema();
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    const missing: string[] = [];
    const walk = (node: Record<string, unknown>, at: string) => {
      const alts = Array.isArray(node.anyOf) ? (node.anyOf as Record<string, unknown>[]) : [node];
      for (const alt of alts) {
        for (const [k, child] of Object.entries((alt.properties ?? {}) as Record<string, Record<string, unknown>>)) {
          if (!child.description) missing.push(`${at}${k}`);
          walk(child, `${at}${k}.`);
        }
      }
    };
    walk(schema, '');
    assert.deepEqual(missing, []);
  });
});

describe('README config section', () => {
  it('should show an example that loads and uses only what podlink exec does today', async () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf(START), readme.indexOf(END));
    const example = /```json\n([\s\S]*?)\n```/.exec(section)![1]!;
    assert.equal(example, README_EXAMPLE);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-readme-'));
    try {
      fs.mkdirSync(path.join(dir, '.podlink'));
      fs.writeFileSync(path.join(dir, '.podlink/podlink.json'), example);
      const { config, notices } = await loadConfig({ cwd: dir, env: { USER: 'dana' } });
      assert.deepEqual(notices, []);
      assert.deepEqual(unavailableFeatures(config), []);
      assert.equal(config.feature.env.override.DEV_USER, 'dana');
      assert.deepEqual(config.feature.fs.local, ['^/home/', '\\.log$']);
      assert.equal(config.feature.network.outgoing.udp, false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should touch only the README between its markers', () => {
    const readme = `# podlink\n\nIntro.\n\n## Configuration\n\n${START}\nold\n${END}\n\n## Other section\n\nText.\n`;
    const out = withReadmeSection(readme);
    assert.ok(out.startsWith('# podlink\n\nIntro.\n\n## Configuration\n\n<!-- config-reference:start -->'));
    assert.ok(out.endsWith(`${END}\n\n## Other section\n\nText.\n`));
    assert.ok(!out.includes('\nold\n'));
  });

  it('should create a README with a title when there is none', () => {
    assert.ok(withReadmeSection(undefined).startsWith(`# podlink\n\n## Configuration\n\n${START}`));
  });
});
