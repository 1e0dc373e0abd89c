import fs from 'node:fs/promises';
import { Command, Option } from 'clipanion';
import { jsonSchema } from '../../config/schema.js';
import { errorLine } from '../errors.js';

/** `podlink schema [--output FILE]`: the JSON Schema of config files, for editors. */
export class SchemaCommand extends Command {
  static override paths = [['schema']];

  static override usage = Command.Usage({
    description: 'write the JSON Schema of podlink config files',
    details: `
      Prints the JSON Schema (draft-07) of \`.podlink/podlink.json\` (and of its YAML and TOML forms) on stdout, or writes it to \`--output FILE\`. Editors use it to complete keys, show each key's documentation and flag mistakes as you type.

      Point a config file at it with \`"$schema": "./podlink.schema.json"\` in JSON (podlink ignores that key), \`# yaml-language-server: $schema=./podlink.schema.json\` in YAML, or \`#:schema ./podlink.schema.json\` in TOML.
    `,
    examples: [
      ['Write the schema next to the team config', '$0 schema --output .podlink/podlink.schema.json'],
      ['Print it', '$0 schema'],
    ],
  });

  output = Option.String('-o,--output', { description: 'write to this file instead of stdout' });

  async execute(): Promise<number> {
    const text = `${JSON.stringify(jsonSchema(), null, 2)}\n`;
    if (this.output === undefined) {
      this.context.stdout.write(text);
      return 0;
    }
    try {
      await fs.writeFile(this.output, text);
      this.context.stderr.write(`podlink: wrote ${this.output}\n`);
      return 0;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.context.stderr.write(`${errorLine(Object.assign(new Error(`cannot write ${this.output}: ${e.code ?? e.message}`), { hint: 'choose a writable path' }))}\n`);
      return 1;
    }
  }
}
