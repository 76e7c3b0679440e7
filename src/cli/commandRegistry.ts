// Every client command of the CLI, by name. Each lives in its own module under commands/.

import type { CliCommand } from './cliCommand.js';
import { answerCommand } from './commands/answerCommand.js';
import { attachCommand } from './commands/attachCommand.js';
import { killCommand } from './commands/killCommand.js';
import { logsCommand } from './commands/logsCommand.js';
import { mcpCommand } from './commands/mcpCommand.js';
import { lsCommand } from './commands/lsCommand.js';
import { newCommand } from './commands/newCommand.js';
import { promptCommand } from './commands/promptCommand.js';
import { runCommand } from './commands/runCommand.js';
import { screenCommand } from './commands/screenCommand.js';
import { sendCommand } from './commands/sendCommand.js';
import { showCommand } from './commands/showCommand.js';
import { shutdownCommand } from './commands/shutdownCommand.js';
import { tokenCommand } from './commands/tokenCommand.js';
import { waitCommand } from './commands/waitCommand.js';
import { execCommand } from './commands/execCommand.js';
import { historyCommand } from './commands/historyCommand.js';
import { linesCommand } from './commands/linesCommand.js';
import { macroCommand } from './commands/macroCommand.js';
import { searchCommand } from './commands/searchCommand.js';
import { templateCommand } from './commands/templateCommand.js';
import { pruneCommand } from './commands/pruneCommand.js';
import { nodeCommand } from './commands/nodeCommand.js';

export const COMMANDS: ReadonlyMap<string, CliCommand> = new Map(
  [newCommand, lsCommand, showCommand, logsCommand, sendCommand, screenCommand, waitCommand, killCommand, runCommand, promptCommand, answerCommand, attachCommand, mcpCommand, tokenCommand, execCommand, historyCommand, linesCommand, searchCommand, templateCommand, macroCommand, pruneCommand, nodeCommand, shutdownCommand].map((command) => [command.name, command]),
);
