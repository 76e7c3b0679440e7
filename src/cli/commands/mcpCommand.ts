// `corral mcp`: an MCP server over stdio for an agent (Claude Code, an editor) that reaches the daemon like every
// CLI client. With no daemon running it starts one in the background on the data dir (--no-start: fail instead),
// so sessions outlive the MCP client. Never writes anything but MCP messages to stdout.

import { parseArgs } from 'node:util';
import { EXIT, reportError, type CliCommand } from '../cliCommand.js';
import { packageVersion } from '../../common/packageVersion.js';
import { printHelp } from './commandKit.js';

const USAGE = `Usage: corral mcp [--no-start] [--root DIR]… [--data-dir DIR] [--json]

An MCP server over stdio for an agent. With no daemon running it starts one in the background on the data dir.
  --no-start  fail (exit 5) instead of starting a daemon
  --root DIR  a root for the daemon it starts (repeatable)
  --json      accepted like every command; stdout carries only MCP messages, so errors still go to stderr`;

export const mcpCommand: CliCommand = {
  name: 'mcp',
  summary: 'MCP server over stdio (starts a daemon if none runs; --no-start to fail instead)',
  async run(argv, io) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          'data-dir': { type: 'string' },
          'no-start': { type: 'boolean', default: false },
          root: { type: 'string', multiple: true },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
        strict: true,
      }));
    } catch (error) {
      return reportError(error, io, false);
    }
    // Not a clientCommand: its errors would go to stdout as JSON under --json, and stdout belongs to MCP.
    if (values.help) return printHelp(io, USAGE);
    // Loaded here so other commands do not pay for the MCP SDK at start-up.
    const { connectToDaemon } = await import('../../mcp/daemonConnection.js');
    const { runStdioMcp } = await import('../../mcp/stdioServer.js');
    let connection;
    try {
      connection = await connectToDaemon({
        dataDir: values['data-dir'],
        env: io.env,
        autoStart: !values['no-start'],
        roots: values.root ?? [],
        cliArgv: [process.execPath, ...process.execArgv, process.argv[1] ?? ''],
        log: (message) => io.stderr.write(message + '\n'),
      });
    } catch (error) {
      return reportError(error, io, false);
    }
    await runStdioMcp(connection.client, packageVersion());
    return EXIT.ok;
  },
};
