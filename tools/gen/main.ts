/**
 * Every generated file of the repository, written or checked in one place:
 *
 *   node dist/tools/gen/main.js           write them
 *   node dist/tools/gen/main.js --check   exit 1 naming those out of date (a unit test runs this)
 *
 * From protocol/spec.ts: protocol/vectors/ and layer/src/protocol_ids.h (protocol.ts). From
 * config/schema.ts: podlink.schema.json, README.md's config reference, docs/config.md
 * (config-docs.ts). From cli/layer-env.ts: layer/src/env_contract.h (layer-env.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configDocFiles } from './config-docs.js';
import { envContractHeader } from './layer-env.js';
import { VECTOR_DIRS, protocolFiles, versionProblem } from './protocol.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function generatedFiles(root = repoRoot): Map<string, Buffer> {
  const files = protocolFiles();
  for (const [rel, text] of Object.entries(configDocFiles(root))) files.set(rel, Buffer.from(text));
  files.set('layer/src/env_contract.h', Buffer.from(envContractHeader()));
  return files;
}

/** Paths (from the repository root) whose content differs from what their definition generates. */
export function staleFiles(root = repoRoot): string[] {
  const want = generatedFiles(root);
  const out = [...want].filter(([rel, content]) => !fs.existsSync(path.join(root, rel)) || !fs.readFileSync(path.join(root, rel)).equals(content)).map(([rel]) => rel);
  for (const dir of VECTOR_DIRS) {
    const abs = path.join(root, dir);
    if (fs.existsSync(abs)) for (const f of fs.readdirSync(abs)) if (!want.has(`${dir}/${f}`)) out.push(`${dir}/${f} (no longer generated)`);
  }
  return out;
}

function main(): void {
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length) {
      console.error(`generated files are out of date (run: node dist/tools/gen/main.js):\n  ${stale.join('\n  ')}`);
      process.exit(1);
    }
    return;
  }
  const problem = versionProblem();
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
  const stale = staleFiles();
  for (const dir of VECTOR_DIRS) fs.rmSync(path.join(repoRoot, dir), { recursive: true, force: true });
  for (const [rel, content] of generatedFiles()) {
    fs.mkdirSync(path.dirname(path.join(repoRoot, rel)), { recursive: true });
    fs.writeFileSync(path.join(repoRoot, rel), content);
  }
  console.log(stale.length ? `wrote ${stale.join(', ')}` : 'generated files were up to date');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) main();
