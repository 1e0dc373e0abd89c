/** Every command the CLI offers, in the order `podlink --help` lists them. */
import type { CommandClass } from 'clipanion';

export const commands: CommandClass[] = [];
