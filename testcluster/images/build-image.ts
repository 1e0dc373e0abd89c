// Command line for oci-image.ts: builds OCI image tarballs from JSON specs.
//   node dist/testcluster/images/build-image.js --out-dir DIR SPEC.json...
// Writes DIR/<spec file name>.tar per spec. In a spec, ${NAME} is replaced by the environment
// variable NAME (unset is an error, not an empty string) and a relative "from" path is taken
// relative to the spec file, so specs can name both repo files and cache outputs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImage, type ImageSpec, ImageSpecError } from './oci-image.js';

function expand(value: string, specFile: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const v = process.env[name];
    if (v === undefined) throw new Error(`${specFile}: \${${name}} is used but the environment does not set it`);
    return v;
  });
}

function loadSpec(specFile: string): ImageSpec {
  const raw = fs.readFileSync(specFile, 'utf8');
  const spec = JSON.parse(raw, (_key, v: unknown) => (typeof v === 'string' ? expand(v, specFile) : v)) as ImageSpec;
  if (typeof spec.name !== 'string' || !/^[^:]+:[\w.-]+$/.test(spec.name)) {
    throw new ImageSpecError(String(spec.name), `${specFile}: "name" must be a reference with an explicit tag`);
  }
  const dir = path.dirname(path.resolve(specFile));
  for (const c of spec.copy ?? []) c.from = path.resolve(dir, c.from);
  return spec;
}

function main(argv: string[]): number {
  const at = argv.indexOf('--out-dir');
  const outDir = at >= 0 ? argv[at + 1] : undefined;
  const specs = argv.filter((_, i) => i !== at && i !== at + 1);
  if (!outDir || specs.length === 0) {
    console.error('usage: build-image.js --out-dir DIR SPEC.json...');
    return 2;
  }
  for (const specFile of specs) {
    try {
      const spec = loadSpec(specFile);
      const tarball = path.join(outDir, `${path.basename(specFile, '.json')}.tar`);
      const t0 = Date.now();
      const image = buildImage(spec, tarball);
      const how = image.built ? `built in ${((Date.now() - t0) / 1000).toFixed(1)} s` : 'up to date';
      console.log(`image ${image.name}: ${how} (${tarball})`);
    } catch (err) {
      console.error(`image spec ${specFile}: ${(err as Error).message}`);
      return 1;
    }
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
