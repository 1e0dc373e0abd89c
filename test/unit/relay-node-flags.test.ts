/** The intproxy and the agent run with link/node-flags.ts wherever they start; the image says it too. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { packageRoot } from '../../common/paths.js';
import { relayNodeFlags } from '../../link/node-flags.js';

describe('relay node flags', () => {
  it('should be in the agent image entrypoint, between node and the agent', () => {
    const image = JSON.parse(fs.readFileSync(path.join(packageRoot, 'agent', 'image', 'agent.json'), 'utf8'));
    assert.deepEqual(image.entrypoint, ['/usr/bin/node', ...relayNodeFlags, '/podlink/dist/agent/main.js']);
  });
});
