// The command and prompt history of every session (PRODUCT §1.3): one place that numbers records, persists
// them and announces finished ones (the `command.finished` engine event). Exec and prompt flows use it; none
// writes history to the store on its own. Writes go through the StoreWriter: a full or locked store delays them,
// it never loses them silently nor fails the command that is being recorded.

import { Emitter, type Event } from '../../common/lifecycle.js';
import type { CommandRecord } from '../../protocol/commandHistory.js';
import type { CommandFinish, CommandLog } from '../ports.js';
import type { StoreWriter } from '../StoreWriter.js';

export type CommandStart = Omit<CommandRecord, 'seq' | 'endedAt' | 'exitCode' | 'outputEnd' | 'durationMs'>;

export class CommandHistory {
  /** Next seq per session, loaded from the store once (history survives restarts, so numbering continues). */
  private readonly nextSeq = new Map<string, number>();
  private readonly open = new Map<string, CommandRecord>();
  private readonly finishedEmitter = new Emitter<CommandRecord>();
  readonly onFinished: Event<CommandRecord> = this.finishedEmitter.event;

  constructor(
    private readonly store: CommandLog,
    private readonly writer: StoreWriter,
  ) {}

  /** Records a command that has started; returns its seq. */
  begin(start: CommandStart): number {
    const seq = this.nextSeq.get(start.sessionId) ?? this.store.lastCommandSeq(start.sessionId) + 1;
    this.nextSeq.set(start.sessionId, seq + 1);
    const record: CommandRecord = { ...start, seq, endedAt: null, exitCode: null, outputEnd: null, durationMs: null };
    this.writer.write({ key: null, sessionId: start.sessionId, run: () => this.store.addCommand(record) });
    this.open.set(key(start.sessionId, seq), record);
    return seq;
  }

  finish(sessionId: string, seq: number, fields: CommandFinish): void {
    this.writer.write({ key: null, sessionId, run: () => this.store.finishCommand(sessionId, seq, fields) });
    const started = this.open.get(key(sessionId, seq));
    this.open.delete(key(sessionId, seq));
    if (started === undefined) return;
    this.finishedEmitter.fire({
      ...started,
      endedAt: fields.endedAt,
      exitCode: fields.exitCode,
      cwd: fields.cwd === undefined ? started.cwd : fields.cwd,
      outputEnd: fields.outputEnd,
      timedOut: fields.timedOut,
      durationMs: fields.durationMs,
    });
  }

  /** Forgets the numbering of an ended session (memory bound: one entry per session ever seen otherwise). */
  forget(sessionId: string): void {
    this.nextSeq.delete(sessionId);
    for (const openKey of this.open.keys()) if (openKey.startsWith(`${sessionId}#`)) this.open.delete(openKey);
  }

  dispose(): void {
    this.finishedEmitter.dispose();
  }
}

function key(sessionId: string, seq: number): string {
  return `${sessionId}#${seq}`;
}
