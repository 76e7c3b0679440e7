// The assistant's reply of the last turn, from an agent CLI's JSONL transcript (its shape named by the profile's
// `agent.transcript`, e.g. Claude Code's) or from the rendered screen.
// Reads only; a transcript is the CLI's file and is never written to.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Transcripts grow with the conversation; the last turn sits at the end, so read at most this much of the tail. */
const MAX_TRANSCRIPT_TAIL_BYTES = 8 * 1024 * 1024;

interface Entry {
  type?: unknown;
  message?: { role?: unknown; content?: unknown };
}

function textBlocks(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  return content.flatMap((block: unknown) =>
    typeof block === 'object' && block !== null && (block as { type?: unknown }).type === 'text' && typeof (block as { text?: unknown }).text === 'string'
      ? [(block as { text: string }).text]
      : [],
  );
}

/** Text of the `replyType` entries after the last typed (string-content) `promptType` entry; null when there is none. */
export function lastReplyFromTranscript(jsonl: string, shape: { promptType: string; replyType: string }): string | null {
  const entries: Entry[] = [];
  for (const line of jsonl.split('\n')) {
    if (line.trim() === '') continue;
    try {
      entries.push(JSON.parse(line) as Entry);
    } catch (error) {
      // The CLI may be mid-write on the last line: skip a partial line.
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  let start = -1;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i];
    if (entry?.type === shape.promptType && typeof entry.message?.content === 'string') {
      start = i;
      break;
    }
  }
  if (start < 0) return null;
  const parts = entries
    .slice(start + 1)
    .filter((entry) => entry.type === shape.replyType)
    .flatMap((entry) => textBlocks(entry.message?.content));
  return parts.length === 0 ? null : parts.join('\n').trim();
}

export function readTranscriptTail(path: string): string | null {
  if (!existsSync(path)) return null;
  const size = statSync(path).size;
  const text = readFileSync(path);
  return text.subarray(Math.max(0, size - MAX_TRANSCRIPT_TAIL_BYTES)).toString('utf8');
}

/** Without hooks: the newest `*.jsonl` in the profile's transcript `dir` under HOME (`${cwdSlug}` filled in). */
export function newestTranscript(home: string, dirTemplate: string, cwd: string): string | null {
  const dir = join(home, dirTemplate.replaceAll('${cwdSlug}', cwd.replace(/[^A-Za-z0-9]/g, '-')));
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.jsonl'))
    .map((file) => ({ file, mtime: statSync(join(dir, file)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  return files[0] === undefined ? null : join(dir, files[0].file);
}

/**
 * The reply on the screen: the lines after the last echoed prompt (`promptMark` + the prompt's first line) up to the
 * turn-end line or the input box, with the reply marks taken off and tool-output lines (`⎿`) left out.
 */
export function replyFromScreen(lines: readonly string[], prompt: string, marks: { promptMark: string; replyMark: string }): string | null {
  const firstLine = (prompt.split('\n')[0] ?? '').trim().slice(0, 40);
  let start = -1;
  for (let y = lines.length - 1; y >= 0; y--) {
    const line = lines[y] ?? '';
    if (line.startsWith(marks.promptMark) && line.slice(marks.promptMark.length).trim().startsWith(firstLine)) {
      start = y;
      break;
    }
  }
  if (start < 0) return null;
  const out: string[] = [];
  for (let y = start + 1; y < lines.length; y++) {
    const line = lines[y] ?? '';
    if (/^─{8,}/u.test(line) || /^[✻✽✢·*] \S+ for \d+/u.test(line) || line.startsWith(marks.promptMark)) break;
    if (/^\s*⎿/u.test(line)) continue;
    if (line.startsWith(marks.replyMark)) out.push(line.slice(marks.replyMark.length).trimEnd());
    else if (out.length > 0 && /^\s{2}\S/u.test(line)) out.push(line.trim());
  }
  const text = out.join('\n').trim();
  return text === '' ? null : text;
}

export interface TranscriptTurn {
  role: 'user' | 'assistant';
  text: string;
  at: string | null;
}

/**
 * The conversation in a transcript: each typed prompt (string-content `user` entries; tool results are not
 * prompts) and the text of the assistant's replies, oldest first, consecutive assistant texts joined.
 */
export function conversationFromTranscript(jsonl: string, shape: { promptType: string; replyType: string }): TranscriptTurn[] {
  const turns: TranscriptTurn[] = [];
  for (const line of jsonl.split('\n')) {
    if (line.trim() === '') continue;
    let entry: Entry & { timestamp?: unknown };
    try {
      entry = JSON.parse(line) as Entry & { timestamp?: unknown };
    } catch (error) {
      // The CLI may be mid-write on the last line (or the tail cut the first): skip a partial line.
      if (!(error instanceof SyntaxError)) throw error;
      continue;
    }
    const at = typeof entry.timestamp === 'string' ? entry.timestamp : null;
    if (entry.type === shape.promptType && typeof entry.message?.content === 'string') {
      turns.push({ role: 'user', text: entry.message.content, at });
    } else if (entry.type === shape.replyType) {
      const text = textBlocks(entry.message?.content).join('\n').trim();
      if (text === '') continue;
      const last = turns.at(-1);
      if (last?.role === 'assistant') last.text += '\n' + text;
      else turns.push({ role: 'assistant', text, at });
    }
  }
  return turns;
}
