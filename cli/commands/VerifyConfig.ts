import path from 'node:path';
import { Command, Option } from 'clipanion';
import { loadConfig, unavailableFeatures } from '../../config/load.js';
import { errorLine } from '../errors.js';

/** `podlink verify-config [FILE]`: is this config valid, and what does podlink make of it? */
export class VerifyConfigCommand extends Command {
  static override paths = [['verify-config']];

  static override usage = Command.Usage({
    description: 'check a config file and print the effective config',
    details: `
      Reads the config file the way \`podlink exec\` would — FILE, else \`PODLINK_CONFIG_FILE\`, else \`.podlink/podlink.json|yaml|yml|toml\`, else \`.mirrord/mirrord.json\` — renders its \`{{ get_env(...) }}\` templates, validates it and prints the effective config as JSON on stdout: every mirrord shorthand expanded (\`"fs": "read"\` → \`{ "mode": "read", ... }\`) and every default filled in.

      A problem is one line on stderr naming the key (\`feature.network.incoming.http_filter.header_filter\`), what was expected, and "did you mean" for a misspelled key. Exit status: 0 valid, 1 invalid, 2 wrong usage.

      Keys for features \`podlink exec\` cannot do yet are accepted here (so the file can be checked in today) and listed as notices on stderr. The last line on stderr names the file that was checked.
    `,
    examples: [
      ['Check the config podlink would use in this directory', '$0 verify-config'],
      ['Check a file and read one value from the result', '$0 verify-config .podlink/podlink.yaml | jq .feature.fs'],
      ['Check a mirrord config before switching', '$0 verify-config .mirrord/mirrord.json'],
    ],
  });

  file = Option.String({ required: false, name: 'FILE' });

  async execute(): Promise<number> {
    const { stdout, stderr } = this.context;
    try {
      const cwd = process.cwd();
      const { config, notices, source } = await loadConfig({ file: this.file, cwd, env: process.env });
      for (const n of notices) stderr.write(`podlink: ${n}\n`);
      for (const key of unavailableFeatures(config)) stderr.write(`podlink: ${key} is valid, but podlink exec does not support it yet\n`);
      stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      // Last, so that `2>&1` output ends with the verdict; says which file discovery picked.
      if (source) {
        const rel = path.relative(cwd, source);
        stderr.write(`podlink: ${rel.startsWith('..') || path.isAbsolute(rel) ? source : rel} is valid\n`);
      } else stderr.write('podlink: no config file found (FILE, PODLINK_CONFIG_FILE, .podlink/podlink.*, .mirrord/mirrord.json); these are the defaults\n');
      return 0;
    } catch (err) {
      stderr.write(`${errorLine(err)}\n`);
      return err instanceof Error && 'exitCode' in err && typeof err.exitCode === 'number' ? err.exitCode : 1;
    }
  }
}
