// Which turn a hook report belongs to. Turn-end hooks can land after the next turn began: Codex's notify program is
// not awaited, and Claude runs a prompt typed while its turn ends as a queued prompt (UserPromptSubmit,
// UserPromptSubmit, Stop, Stop: docs/claude-code-notes.md). A turn end is tied to its turn by the id the CLI
// gives both hooks (Claude `prompt_id`, Codex `turn_id`/`turn-id`) or else by the prompt text it carries (Gemini,
// Codex without its turn-start hook); only the end of the latest turn moves the state or ends a prompt.

/** How a turn ended by hook: the reply (or the error text) its payload carried. */
export interface TurnEnd {
  reply: string | null;
  failed: boolean;
}

export interface Turn {
  /** Order of the turn in this session (1, 2, …). */
  seq: number;
  /** The CLI's id for it, once a hook named one. */
  id: string | null;
  /** Its prompt: the text Corral typed, or the one a turn-start hook reported. */
  prompt: string | null;
  /** Typed by Corral's prompt (its turn-start hook, if any, may still be on the way). */
  submitted: boolean;
  /** A turn-start hook reported it. */
  hookStarted: boolean;
  /** Its turn-end hook, once one arrived. */
  end: TurnEnd | null;
}

/** Turns kept: the current one and enough earlier ones for any late hook (a few are ever in flight). */
const MAX_TURNS = 32;

/** Whitespace-insensitive: a CLI may trim the prompt or fold its line breaks. */
function normalized(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export class TurnLedger {
  private readonly turns: Turn[] = [];
  private nextSeq = 1;
  /** Whether this CLI reports turn starts by hook (learned from the first one). */
  private startsByHook = false;

  get reportsStarts(): boolean {
    return this.startsByHook;
  }

  /**
   * The session's hooks include a turn-start one (known from its launch): a prompt's turn starts with that hook, not
   * with a busy screen, from the first prompt on (a spinner while the CLI restarts or loads is not a turn).
   */
  expectStarts(): void {
    this.startsByHook = true;
  }

  /** Corral is about to type `prompt`: the turn it starts. Called before the keys are sent. */
  submit(prompt: string): Turn {
    return this.add({ id: null, prompt, submitted: true, hookStarted: false });
  }

  /** A turn-start hook: the turn Corral typed and is waiting for, or one typed at the terminal. */
  started(id: string | null, prompt: string | null): Turn {
    this.startsByHook = true;
    const known = id === null ? undefined : this.turns.find((turn) => turn.id === id);
    // A typed prompt whose start has not been reported yet (any after the last reported start).
    const lastStarted = this.turns.findLastIndex((turn) => turn.hookStarted);
    const pending = this.turns.slice(lastStarted + 1).find((turn) => turn.submitted && turn.end === null);
    const turn = known ?? pending ?? this.add({ id, prompt, submitted: false, hookStarted: true });
    turn.hookStarted = true;
    turn.id ??= id;
    turn.prompt ??= prompt;
    return turn;
  }

  /**
   * A turn-end hook: records it on its turn. `current` is false when it belongs to an earlier turn than the latest
   * (it must not end the turn running now). An end no turn can be found for is taken as the latest turn's.
   */
  ended(id: string | null, prompt: string | null, end: TurnEnd): { turn: Turn | null; current: boolean } {
    const turn = this.owner(id, prompt);
    if (turn === null) return { turn: null, current: true };
    turn.end = end;
    return { turn, current: turn === this.turns.at(-1) };
  }

  /** The turn a prompt started, or a later one (a start a CLI reported differently): started? ended by hook how? */
  since(turn: Turn): { started: boolean; end: TurnEnd | null } {
    const later = this.turns.filter((t) => t.seq >= turn.seq);
    const ended = later.findLast((t) => t.end !== null);
    return { started: later.some((t) => t.hookStarted), end: ended?.end ?? null };
  }

  private owner(id: string | null, prompt: string | null): Turn | null {
    if (id !== null) {
      const byId = this.turns.find((turn) => turn.id === id);
      if (byId !== undefined) return byId;
    }
    if (prompt !== null && normalized(prompt) !== '') {
      const text = normalized(prompt);
      const open = this.turns.filter((turn) => turn.end === null && turn.prompt !== null);
      // The oldest open turn with this prompt (an earlier turn's late end comes first); exact before contained.
      const exact = open.find((turn) => normalized(turn.prompt ?? '') === text);
      const near = open.find((turn) => {
        const other = normalized(turn.prompt ?? '');
        return other !== '' && (other.includes(text) || text.includes(other));
      });
      if (exact !== undefined || near !== undefined) return exact ?? near ?? null;
    }
    return this.turns.at(-1) ?? null;
  }

  private add(fields: Omit<Turn, 'seq' | 'end'>): Turn {
    const turn: Turn = { seq: this.nextSeq++, end: null, ...fields };
    this.turns.push(turn);
    if (this.turns.length > MAX_TURNS) this.turns.shift();
    return turn;
  }
}
