// Output search: a regex over the session's kept output (the daemon's, beyond the terminal's scrollback) with
// the hits listed, Enter jumping from one to the next in the terminal. Matched text is output: shown as text only.

import type { Terminal } from '@xterm/xterm';
import { ApiError, sessionsApi } from '../api.js';
import { h, replaceChildren } from '../dom.js';

/** Search hits listed at once; the count says if there were more. */
const MAX_SEARCH_RESULTS = 200;

/** A match in the terminal's buffer: where the terminal can scroll to and select. */
interface Hit {
  line: number;
  col: number;
  length: number;
}

export class SearchPanel {
  /** The form, the count line and the list, for the panel that holds them. */
  readonly elements: HTMLElement[];
  private readonly input = h('input', { attrs: { id: 'search-input', type: 'search', placeholder: 'Search output (regex)', 'aria-label': 'Search output', spellcheck: 'false' } });
  private readonly info = h('p', { class: 'sub', attrs: { id: 'search-info', role: 'status' } });
  private readonly results = h('ol', { class: 'search-results', attrs: { id: 'search-results' } });
  private hits: Hit[] = [];
  private current = -1;

  constructor(
    private readonly sessionId: string,
    private readonly term: Terminal,
  ) {
    const form = h('form', { class: 'search-form', attrs: { id: 'search-form' } }, this.input, h('button', { attrs: { type: 'submit' } }, 'Find'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      // The same query again moves to the next hit; a new one searches.
      if (this.hits.length > 0 && this.input.dataset.query === this.input.value) this.jump((this.current + 1) % this.hits.length);
      else this.run();
    });
    this.elements = [form, this.info, this.results];
  }

  private run(): void {
    const query = this.input.value;
    this.input.dataset.query = query;
    let pattern: RegExp;
    try {
      pattern = new RegExp(query, 'gi');
    } catch (error) {
      this.info.textContent = `Not a valid pattern: ${(error as Error).message}`;
      return;
    }
    this.hits = [];
    this.current = -1;
    replaceChildren(this.results);
    if (query === '') {
      this.info.textContent = '';
      return;
    }
    const buffer = this.term.buffer.active;
    for (let line = 0; line < buffer.length && this.hits.length < MAX_SEARCH_RESULTS * 10; line++) {
      const text = buffer.getLine(line)?.translateToString(true) ?? '';
      for (const match of text.matchAll(pattern)) {
        if (match[0].length === 0) break;
        this.hits.push({ line, col: match.index, length: match[0].length });
      }
    }
    this.info.textContent = 'Searching…';
    // The daemon searches everything it kept (memory and disk), beyond the terminal's scrollback.
    sessionsApi.search(this.sessionId, query, MAX_SEARCH_RESULTS).then(
      (reply) => this.showServerHits(reply.matches, reply.truncated),
      (error: unknown) => {
        // An older daemon without the search route, or a pattern it refuses: the scrollback is what we have.
        if (!(error instanceof ApiError)) console.warn('search failed', error);
        this.showBufferHits();
      },
    );
  }

  private showBufferHits(): void {
    const hits = this.hits;
    const buffer = this.term.buffer.active;
    const listed = hits.slice(0, MAX_SEARCH_RESULTS);
    this.info.textContent = hits.length === 0 ? 'No match in the terminal\u2019s scrollback.' : `${hits.length} match${hits.length === 1 ? '' : 'es'} in the scrollback. Enter jumps to the next.`;
    replaceChildren(this.results, ...listed.map((hit, index) => {
      const text = buffer.getLine(hit.line)?.translateToString(true) ?? '';
      return this.hitItem(index, `${hit.line + 1}`, text, hit.col, hit.length);
    }));
    if (hits.length > 0) this.jump(0);
  }

  private showServerHits(matches: { match: string; line: string }[], truncated: boolean): void {
    // The terminal holds the newest matches; align both lists at their ends. A truncated reply is the oldest N,
    // which cannot be aligned: list the scrollback's hits instead.
    if (truncated) {
      this.showBufferHits();
      this.info.textContent += ' (The full output has more matches than can be listed.)';
      return;
    }
    const hits = this.hits;
    const shift = matches.length - hits.length;
    this.info.textContent =
      matches.length === 0 ? 'No match in the session\u2019s output.' : `${matches.length} match${matches.length === 1 ? '' : 'es'} in the output${shift > 0 ? `, ${shift} older than the terminal\u2019s scrollback` : ''}. Enter jumps to the next.`;
    replaceChildren(this.results, ...matches.map((found, index) => {
      const at = found.line.toLowerCase().indexOf(found.match.toLowerCase());
      const item = this.hitItem(index - shift, `#${index + 1}`, found.line, Math.max(0, at), at < 0 ? 0 : found.match.length);
      if (index < shift) {
        const button = item.querySelector('button');
        if (button !== null) {
          button.disabled = true;
          button.title = 'Older than the terminal\u2019s scrollback';
        }
      }
      return item;
    }));
    if (hits.length > 0) this.jump(Math.max(0, hits.length - 1));
  }

  private hitItem(index: number, where: string, text: string, col: number, length: number): HTMLLIElement {
    const start = Math.max(0, col - 30);
    return h('li', {}, h('button', { class: 'hit', attrs: { type: 'button', 'data-index': String(index) }, on: { click: () => this.jump(index) } },
      h('span', { class: 'line-no' }, where),
      text.slice(start, col), h('mark', {}, text.slice(col, col + length)), text.slice(col + length, col + length + 40)));
  }

  /** Scrolls the terminal to hit `index`, selects it there and marks it in the list. */
  private jump(index: number): void {
    const hit = this.hits[index];
    if (hit === undefined) return;
    this.current = index;
    this.term.scrollToLine(Math.max(0, hit.line - Math.floor(this.term.rows / 2)));
    this.term.select(hit.col, hit.line, hit.length);
    for (const el of this.results.querySelectorAll('.hit')) el.classList.toggle('current', el.getAttribute('data-index') === String(index));
  }
}
