// `corral node ls|drain|forget`: a fleet's nodes (daemons started with `corral serve --cluster`), through any node.

import { EXIT, UsageError } from '../cliCommand.js';
import type { NodeInfo } from '../../protocol/apiReplies.js';
import { client, clientCommand, writeJson } from './commandKit.js';

const USAGE = `Usage: corral node ls | drain <name> [--undo] | forget <name> [--json]

The nodes of a fleet (corral serve --cluster …), asked of any of them:
  ls              every node: up, draining or unreachable, with its sessions and capacity
  drain <name>    stop new placements on the node (for an upgrade) and list what still runs there;
                  --undo lets it take new sessions again
  forget <name>   declare an unreachable node gone for good: its sessions end as lost (exit reason lost).
                  Only for a node that is not coming back; one that does rejoins with its sessions.`;

function line(node: NodeInfo): string {
  const sessions = node.sessions === null ? '?' : `${node.sessions}/${node.maxSessions ?? '?'}`;
  const labels = Object.entries(node.labels).map(([key, value]) => `${key}=${value}`).join(',');
  return `${node.name.padEnd(16)} ${node.state.padEnd(12)} ${sessions.padEnd(9)} ${node.url}${labels === '' ? '' : `  ${labels}`}`;
}

export const nodeCommand = clientCommand({
  name: 'node',
  summary: "a fleet's nodes: ls, drain, forget",
  usage: USAGE,
  options: { undo: { type: 'boolean', default: false } },
  run: async ({ values, positionals }, io) => {
    const [verb, name, ...rest] = positionals;
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"\n${USAGE}`);
    const api = client(values, io);
    if (verb === 'ls' || verb === 'list') {
      if (name !== undefined) throw new UsageError(`unexpected argument "${name}"\n${USAGE}`);
      const nodes = await api.nodes.list();
      if (values.json) writeJson(io, { nodes });
      else io.stdout.write(`${'NAME'.padEnd(16)} ${'STATE'.padEnd(12)} ${'SESSIONS'.padEnd(9)} URL\n${nodes.map(line).join('\n')}\n`);
      return EXIT.ok;
    }
    if (name === undefined || name === '') throw new UsageError(`a node name is required\n${USAGE}`);
    if (verb === 'drain') {
      const reply = await api.nodes.drain(name, !values.undo);
      if (values.json) writeJson(io, reply);
      else {
        io.stdout.write(`${line(reply.node)}\n`);
        io.stdout.write(reply.sessions.length === 0 ? 'nothing runs there\n' : `still running there: ${reply.sessions.map((s) => s.name ?? s.id).join(', ')}\n`);
      }
      return EXIT.ok;
    }
    if (verb === 'forget') {
      const reply = await api.nodes.forget(name);
      if (values.json) writeJson(io, reply);
      else io.stdout.write(`forgot ${reply.node}: ${reply.lost.length} session${reply.lost.length === 1 ? '' : 's'} ended as lost\n`);
      return EXIT.ok;
    }
    throw new UsageError(`${verb === undefined ? 'a subcommand is required' : `unknown subcommand "${verb}"`}\n${USAGE}`);
  },
});
