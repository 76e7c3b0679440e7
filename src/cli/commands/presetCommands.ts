// What `corral template` and `corral macro` share: ls / show / set / rm over a named-preset REST collection,
// with the body given as a JSON argument or a file. Knows nothing of what a template or macro contains.

import { readFileSync } from 'node:fs';
import { UsageError, EXIT, type CliCommand, type CliIO } from '../cliCommand.js';
import type { Corral } from '../../client/Corral.js';
import type { PresetsApi } from '../../client/PresetsApi.js';
import { client, clientCommand, writeJson } from './commandKit.js';

/** A body given on the command line: `--file path` wins, else the JSON argument. */
function presetBody(json: string | undefined, file: string | undefined, usage: string): unknown {
  const text = file !== undefined ? readFileSync(file, 'utf8') : json;
  if (text === undefined) throw new UsageError(`give the body as JSON or with --file\n${usage}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`the body is not valid JSON: ${(error as Error).message}`);
  }
}

/** ls, show, set, rm for `/api/v1/<collection>`; returns null for any other verb (the caller handles it). */
async function presetVerb(
  api: Corral,
  io: CliIO,
  collection: 'templates' | 'macros',
  verb: string | undefined,
  args: readonly string[],
  options: { json: boolean; file?: string; usage: string },
): Promise<number | null> {
  // Bodies go to the daemon as given (it validates them), so the collection's body type does not matter here.
  const presets: PresetsApi<unknown, unknown> = collection === 'templates' ? api.templates : api.macros;
  const name = (): string => {
    const value = args[0];
    if (value === undefined || value === '') throw new UsageError(`a name is required\n${options.usage}`);
    return value;
  };
  switch (verb) {
    case 'ls':
    case 'list': {
      const items = collection === 'templates' ? await api.templates.list() : await api.macros.list();
      if (options.json) writeJson(io, { [collection]: items });
      else if (items.length === 0) {
        // On stderr: a script reading the list still gets nothing, a person learns it is empty and how to fill it.
        const singular = collection === 'templates' ? 'template' : 'macro';
        io.stderr.write(`corral: no ${collection} yet (add one with: corral ${singular} set <name> '<json>')\n`);
      } else for (const item of items) io.stdout.write(`${item.name}${item.description === undefined ? '' : `\t${item.description}`}\n`);
      return EXIT.ok;
    }
    case 'show':
      writeJson(io, await presets.get(name()));
      return EXIT.ok;
    case 'set': {
      const reply = await presets.put(name(), presetBody(args[1], options.file, options.usage));
      if (options.json) writeJson(io, reply);
      return EXIT.ok;
    }
    case 'rm':
    case 'delete':
      await presets.delete(name());
      return EXIT.ok;
    default:
      return null;
  }
}

/** A verb a preset command adds to ls/show/set/rm (`macro run`): gets the arguments after the verb. */
export type PresetCommandVerb = (
  args: readonly string[],
  api: Corral,
  io: CliIO,
  json: boolean,
) => Promise<number>;

/**
 * `corral template` and `corral macro`: the verbs of presetVerb over one collection (--file for `set`), plus the
 * command's own verbs; any other verb is a usage error.
 */
export function presetCommand(command: {
  name: string;
  summary: string;
  usage: string;
  collection: 'templates' | 'macros';
  verbs?: ReadonlyMap<string, PresetCommandVerb>;
}): CliCommand {
  return clientCommand({
    name: command.name,
    summary: command.summary,
    usage: command.usage,
    options: { file: { type: 'string', short: 'f' } },
    run: async ({ values, positionals }, io) => {
      const [verb, ...rest] = positionals;
      const api = client(values, io);
      const own = verb === undefined ? undefined : command.verbs?.get(verb);
      if (own !== undefined) return own(rest, api, io, values.json);
      const { usage } = command;
      const code = await presetVerb(api, io, command.collection, verb, rest, { json: values.json, file: values.file, usage });
      if (code === null) throw new UsageError(`unknown verb "${verb ?? ''}"\n${usage}`);
      return code;
    },
  });
}
