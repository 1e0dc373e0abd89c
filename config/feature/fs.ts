/**
 * `feature.fs`: which file operations go to the target's filesystem. The pattern lists are matched
 * by the C layer with glibc regcomp(REG_EXTENDED | REG_ICASE), so they are validated as POSIX ERE
 * (regex.ts) — Perl-only syntax is refused with what to write instead.
 */
import { z } from 'zod';
import { posixRegexList } from '../common.js';

export const FS_MODES = ['read', 'write', 'local', 'localwithoverrides'] as const;

const mode = z
  .enum(FS_MODES)
  .describe(
    '`read`: read remote files, write locally (default). `write`: read and write remotely. `local`: everything local. `localwithoverrides`: local, except the built-in remote paths (e.g. /etc/resolv.conf) and your lists.',
  );

const patterns = (what: string) =>
  posixRegexList()
    .default([])
    .describe(`POSIX extended regexes (one, or a list), matched case-insensitively anywhere in the path: ${what}`);

const fsObject = z
  .strictObject({
    mode: mode.default('read'),
    read_only: patterns('read these remotely; opening one for writing opens it locally.').meta({ examples: [['^/etc/config/', '\\.yaml$']] }),
    read_write: patterns('read and write these remotely.'),
    local: patterns('always use the local file.').meta({ examples: [['^/home/', 'node_modules']] }),
    not_found: patterns('behave as if these did not exist (ENOENT).'),
  });

export const fsSchema = z
  .union([
    z.boolean().transform((on) => fsObject.parse({ mode: on ? 'read' : 'local' })),
    mode.transform((m) => fsObject.parse({ mode: m })),
    fsObject,
  ])
  .prefault('read')
  .describe('File operations: a mode (`"read"`, `"write"`, `"local"`, `"localwithoverrides"`), `true` (= read), `false` (= local), or an object with `mode` and pattern lists. A path matching a list follows that list, whatever the mode.')
  .meta({ examples: ['read', { mode: 'write', local: ['^/tmp/'] }] });
