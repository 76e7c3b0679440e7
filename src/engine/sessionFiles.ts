// Where a session's files live on disk (output journals, shell rc, agent home) and how its output streams are
// opened on them, live or after a restart. It never deletes anything but what retention asks for.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CorralError } from '../protocol/errors.js';
import type { OutputRead } from '../protocol/sessionTypes.js';
import type { StoredSession } from './ports.js';
import type { EngineConfig } from './EngineConfig.js';
import { OutputJournal } from './output/OutputJournal.js';
import { OutputStream } from './output/OutputStream.js';
import { readView, type ReadOptions } from './output/readView.js';

export type OutputChannel = 'combined' | 'stdout' | 'stderr';

export function sessionDir(dataDir: string, id: string): string {
  return join(dataDir, 'sessions', id);
}

/** A live session's stream for a channel: the in-memory ring over a capped journal on disk. */
export function createSessionStream(config: EngineConfig, id: string, channel: OutputChannel): OutputStream {
  const dir = join(sessionDir(config.dataDir, id), channel);
  return new OutputStream(config.ringBytes, OutputJournal.create(dir, { capBytes: config.journalCapBytes }));
}

/** Where a pipe session records the ends its three journals last had on disk together (PipeCheckpoint). */
export function pipeCheckpointFile(dataDir: string, id: string): string {
  return join(sessionDir(dataDir, id), 'pipe-checkpoint');
}

/**
 * The journal of a session a restarted daemon takes over (a channel that never wrote anything starts at 0, as a new
 * one). Wrap it with streamOverJournal once any recovery cut is done: the stream continues from the journal's end.
 */
export function reopenSessionJournal(config: EngineConfig, id: string, channel: OutputChannel): OutputJournal {
  const dir = join(sessionDir(config.dataDir, id), channel);
  const options = { capBytes: config.journalCapBytes };
  return existsSync(dir) ? OutputJournal.open(dir, options) : OutputJournal.create(dir, options);
}

export function streamOverJournal(config: EngineConfig, journal: OutputJournal): OutputStream {
  return new OutputStream(config.ringBytes, journal);
}

/** Output of a session only the store knows (ended and gone from memory, or from before a restart). */
export function readArchivedOutput(config: EngineConfig, stored: StoredSession, options: ReadOptions): OutputRead {
  if (options.stream !== 'combined' && stored.info.kind !== 'pipe') {
    throw new CorralError('NOT_SUPPORTED_FOR_KIND', `Session ${stored.info.id} has no separate ${options.stream}.`);
  }
  const dir = join(sessionDir(config.dataDir, stored.info.id), options.stream);
  const journal = existsSync(dir) ? OutputJournal.open(dir, { capBytes: config.journalCapBytes }) : null;
  const stream = new OutputStream(0, journal);
  try {
    return readView(stream, options, false); // an archived session writes no more
  } finally {
    void stream.close();
  }
}
