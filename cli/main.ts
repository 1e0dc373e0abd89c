/** Entry point of the podlink CLI: registers the commands and runs the one asked for. */
import { Builtins, Cli } from 'clipanion';
import { createRequire } from 'node:module';
import { commands } from './commands/index.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

const cli = new Cli({
  binaryLabel: 'podlink — run a local process as if it were inside a Kubernetes pod',
  binaryName: 'podlink',
  binaryVersion: pkg.version,
});
for (const command of commands) cli.register(command);
cli.register(Builtins.HelpCommand);
cli.register(Builtins.VersionCommand);

const argv = process.argv.slice(2);
let command;
try {
  command = cli.process(argv, Cli.defaultContext);
} catch (err) {
  // The command line itself is wrong (unknown option, missing argument): exit 2, as usage errors do.
  process.stderr.write(cli.error(err));
  process.exit(2);
}
process.exitCode = await cli.run(command, Cli.defaultContext);
