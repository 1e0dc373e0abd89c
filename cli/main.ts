/** Entry point of the podlink CLI: registers the commands and runs the one asked for. */
import { Builtins, Cli } from 'clipanion';
import { createRequire } from 'node:module';
import { colorDepth } from './color.js';
import { commands } from './commands/index.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

const cli = new Cli({
  binaryLabel: 'podlink — run a local process as if it were inside a Kubernetes pod',
  binaryName: 'podlink',
  binaryVersion: pkg.version,
  // Help and results go to stdout: coloured only when it is a terminal (NO_COLOR / FORCE_COLOR win).
  enableColors: colorDepth(process.stdout) > 1,
});
for (const command of commands) cli.register(command);
cli.register(Builtins.HelpCommand);
cli.register(Builtins.VersionCommand);

// Usage errors go to stderr: coloured only if that is a terminal.
const context = { ...Cli.defaultContext, colorDepth: colorDepth(process.stdout) };
const argv = process.argv.slice(2);
let command;
try {
  command = cli.process(argv, context);
} catch (err) {
  // The command line itself is wrong (unknown option, missing argument): exit 2, as usage errors do.
  process.stderr.write(cli.error(err, { colored: colorDepth(process.stderr) > 1 }));
  process.exit(2);
}
process.exitCode = await cli.run(command, context);
