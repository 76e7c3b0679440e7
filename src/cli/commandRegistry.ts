// Every client command of the CLI, by name. Each lives in its own module under commands/.

import type { CliCommand } from './cliCommand.js';
import { attachCommand } from './commands/attachCommand.js';
import { killCommand } from './commands/killCommand.js';
import { logsCommand } from './commands/logsCommand.js';
import { mcpCommand } from './commands/mcpCommand.js';
import { lsCommand } from './commands/lsCommand.js';
import { newCommand } from './commands/newCommand.js';
import { runCommand } from './commands/runCommand.js';
import { screenCommand } from './commands/screenCommand.js';
import { sendCommand } from './commands/sendCommand.js';
import { showCommand } from './commands/showCommand.js';
import { tokenCommand } from './commands/tokenCommand.js';
import { waitCommand } from './commands/waitCommand.js';

export const COMMANDS: ReadonlyMap<string, CliCommand> = new Map(
  [newCommand, lsCommand, showCommand, logsCommand, sendCommand, screenCommand, waitCommand, killCommand, runCommand, attachCommand, mcpCommand, tokenCommand].map((command) => [command.name, command]),
);
