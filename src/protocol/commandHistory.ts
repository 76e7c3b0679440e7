// A session's command and prompt history as every face sends it (`GET /sessions/{id}/history`, `corral history`).

export const COMMAND_KINDS = ['exec', 'prompt', 'input'] as const;
export type CommandKind = (typeof COMMAND_KINDS)[number];

export interface CommandRecord {
  sessionId: string;
  seq: number;
  kind: CommandKind;
  text: string;
  startedAt: string;
  endedAt: string | null;
  exitCode: number | null;
  cwd: string | null;
  /** Output offset where the command's output starts. */
  outputStart: number;
  outputEnd: number | null;
  timedOut: boolean;
  durationMs: number | null;
}
