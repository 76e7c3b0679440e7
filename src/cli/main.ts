#!/usr/bin/env node
// The `corral` command line: dispatches to one module per command. Exit codes: 0 success, 1 failure,
// 2 usage error, 3 not found, 4 timed out (waits), 5 daemon unreachable.

import { serveCommand } from './serveCommand.js';
import { runClientCommand, CLIENT_COMMANDS } from './clientCommands.js';

export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, timeout: 4, unreachable: 5 } as const;

const USAGE = `corral — a session daemon for terminal agents and long-running commands

Usage: corral <command> [options]

  serve      run the daemon (--host, --port, --data-dir, --root …)
  token      print the API token (--url: a one-time dashboard login link)
  new        create a session  (--profile, --task, --cwd, --name, -- argv…)
  ls         list sessions
  show       one session
  logs       output (-f to follow, --since <offset>, --text)
  send       send text / keys (--key Enter)
  screen     the rendered terminal
  wait       wait for a state, a pattern or exit
  kill       end a session and its whole process tree
  run        one-shot command (pipe), prints stdout/stderr, exits with its code
  exec       run a command in a shell session and print its output
  prompt     prompt an agent session
  attach     attach your terminal to a session
  mcp        MCP server over stdio

Every command takes --json and --data-dir; clients find the daemon through CORRAL_URL/CORRAL_TOKEN or the data dir.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '--version' || command === 'version') {
    const { packageVersion } = await import('../server/daemon.js');
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  if (command === 'serve') return serveCommand(rest, []);
  if (CLIENT_COMMANDS.has(command)) return runClientCommand(command, rest);
  process.stderr.write(`corral: unknown command "${command}"\n\n${USAGE}`);
  return EXIT.usage;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`corral: ${(error as Error).message}\n`);
    process.exitCode = EXIT.failure;
  },
);
