/** Every command the CLI offers, in the order `podlink --help` lists them. */
import type { CommandClass } from 'clipanion';
import { ExecCommand } from './Exec.js';

export const commands: CommandClass[] = [ExecCommand];
