/**
 * layer/src/env_contract.h: the CLI → layer environment contract of cli/layer-env.ts as C macros,
 * so layer/src/config.c names no variable, value or separator by a literal of its own.
 */
import { FLAG, FS_MODES, LAYER_ENV, LAYER_ENV_PREFIX, LIST_SEPARATOR } from '../../cli/layer-env.js';

const str = (s: string) => JSON.stringify(s);
/** `PODLINK_FS_MODE` → `PL_ENV_FS_MODE`. */
export const cMacro = (name: string): string => `PL_ENV_${name.replace(new RegExp(`^${LAYER_ENV_PREFIX}`), '')}`;

export function envContractHeader(): string {
  const define = (name: string, value: string, comment?: string) => `#define ${name.padEnd(30)} ${value}${comment ? `  /* ${comment} */` : ''}`;
  return [
    '/* Generated from cli/layer-env.ts by tools/gen (node dist/tools/gen/main.js): do not edit.',
    ' * The environment the CLI hands the layer: variable names, and the formats of their values. */',
    '#ifndef PODLINK_ENV_CONTRACT_H',
    '#define PODLINK_ENV_CONTRACT_H',
    '',
    ...Object.entries(LAYER_ENV).map(([name, format]) => define(cMacro(name), str(name), format)),
    '',
    define('PL_ENV_PREFIX', str(LAYER_ENV_PREFIX), 'every variable of the layer; children inherit them all'),
    define('PL_ENV_LIST_SEP', str(LIST_SEPARATOR), 'lists: one item per line'),
    define('PL_ENV_FLAG_ON', str(FLAG.on)),
    define('PL_ENV_FLAG_OFF', str(FLAG.off), 'also "false"; unset or empty = the default'),
    ...FS_MODES.map((m) => define(`PL_ENV_FS_MODE_${m.toUpperCase()}`, str(m))),
    '',
    '#endif',
    '',
  ].join('\n');
}
