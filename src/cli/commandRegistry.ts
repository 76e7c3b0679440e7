// Every client command of the CLI, by name. Each lives in its own module under commands/.

import type { CliCommand } from './cliCommand.js';
import { tokenCommand } from './commands/tokenCommand.js';

export const COMMANDS: ReadonlyMap<string, CliCommand> = new Map(
  [tokenCommand].map((command) => [command.name, command]),
);
