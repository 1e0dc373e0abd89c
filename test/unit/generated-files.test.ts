/**
 * Every generated file is in step with its one definition (tools/gen): the protocol vectors and
 * layer/src/protocol_ids.h with protocol/spec.ts, the config reference with config/schema.ts, and
 * layer/src/env_contract.h with cli/layer-env.ts, which the layer must read its variables by.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { LAYER_ENV, layerEnv } from '../../cli/layer-env.js';
import { cMacro } from '../../tools/gen/layer-env.js';
import { repoRoot, staleFiles } from '../../tools/gen/main.js';

describe('generated files', () => {
  it('should all match what tools/gen generates (run `node dist/tools/gen/main.js`)', () => {
    assert.deepEqual(staleFiles(), []);
  });

  it('should leave no variable name, flag value or list separator of the layer env as a literal in config.c', () => {
    const c = fs.readFileSync(path.join(repoRoot, 'layer/src/config.c'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    assert.deepEqual(c.match(/"(PODLINK_|UV_USE)[A-Z_]*=?"/g) ?? [], []);
    assert.match(c, /#include "env_contract.h"/);
    for (const name of Object.keys(LAYER_ENV)) assert.ok(c.includes(cMacro(name)), `config.c does not read ${cMacro(name)}`);
  });

  it('should have the CLI set exactly the contract variables it hands the layer', () => {
    const env = layerEnv(
      { fs: { mode: 'read', read_only: ['^/a'], read_write: [], local: ['x', 'y'], not_found: [] }, network: { outgoing: { tcp: true, udp: false, ignore_localhost: true }, dns: { enabled: true }, incoming: { mode: 'steal', listen_ports: [[80, 8080]] } } },
      { socketPath: '/tmp/s.sock', localPrefixes: ['/home/u'] },
    );
    const names = Object.keys(LAYER_ENV).filter((n) => n !== 'PODLINK_DEBUG');
    assert.deepEqual(Object.keys(env).sort(), ['LD_PRELOAD', ...names].sort());
    assert.equal(env.PODLINK_FS_LOCAL, 'x\ny');
    assert.equal(env.PODLINK_OUTGOING_UDP, '0');
    assert.equal(env.PODLINK_OUTGOING_TCP, '1');
    assert.equal(env.PODLINK_INCOMING, '1');
    assert.equal(env.PODLINK_LISTEN_PORTS, '80:8080');
  });
});
