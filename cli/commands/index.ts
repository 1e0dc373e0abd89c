/** Every command the CLI offers, in the order `podlink --help` lists them. */
import type { CommandClass } from 'clipanion';
import { ExecCommand } from './Exec.js';
import { VerifyConfigCommand } from './VerifyConfig.js';
import { SchemaCommand } from './Schema.js';
import { LsCommand } from './Ls.js';
import { SessionsCommand } from './Sessions.js';

export const commands: CommandClass[] = [ExecCommand, LsCommand, SessionsCommand, VerifyConfigCommand, SchemaCommand];
