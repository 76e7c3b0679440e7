// The session view: composes the parts under session/ (header, banner, controls, pending question, terminal
// pane, timeline, command history, search) and keeps them in step with what the session's socket reports.
// Holds no rendering of its own beyond the layout; each part owns its DOM and listeners.

import type { ExitInfo, SessionInfo } from '../protocol/sessionTypes.js';
import { ApiError, sessionsApi } from './api.js';
import { Disposer, h, replaceChildren, type Disposable } from './dom.js';
import type { LiveSessions } from './liveSessions.js';
import { actionRunner } from './session/actions.js';
import { SessionBanner } from './session/banner.js';
import { CommandsPanel } from './session/commands.js';
import { ConversationPanel } from './session/conversation.js';
import { SessionControls } from './session/controls.js';
import { SessionHeader } from './session/header.js';
import { HistoryRefresh } from './session/historyRefresh.js';
import { QuestionPanel } from './session/question.js';
import { SearchPanel } from './session/search.js';
import { TerminalPane } from './session/terminalPane.js';
import { installTerminalProbe } from './session/terminalProbe.js';
import { TimelinePanel } from './session/timeline.js';
import { renameButton } from './rename.js';
import { renderTabs } from './tabs.js';

/** A new view replays at most the last 2 MiB: a terminal's recent past, not a flood that freezes the tab. */
const INITIAL_REPLAY_BYTES = 2 * 1024 * 1024;

export function renderSessionView(root: HTMLElement, id: string, live: LiveSessions): Disposable {
  const disposer = new Disposer();
  /** The session as the view knows it: from the live list, the socket's state frames, or a read of its own. */
  let session: SessionInfo | undefined = live.sessions.get(id);

  const header = new SessionHeader(id);
  const banner = new SessionBanner();
  const act = actionRunner(id, live, (text) => banner.flash(text));
  const question = new QuestionPanel(id, () => session, act);
  const timeline = new TimelinePanel();
  const commands = new CommandsPanel();
  const history = new HistoryRefresh(id, timeline, commands);
  disposer.add(history);
  const pane = new TerminalPane(id, session === undefined ? 0 : replayStart(session), session?.kind === 'pipe', {
    onState: (change) => {
      if (change.session !== undefined) session = change.session;
      else if (session !== undefined) session = { ...session, state: change.state, stateReason: change.reason, stateSource: change.source };
      renderHead();
      history.schedule();
      conversation.schedule();
      void question.update();
      void live.refresh(id);
    },
    onExit: (exit) => {
      if (session !== undefined) session = { ...session, state: 'terminated', exit };
      renderHead();
      showEnded(exit);
      history.schedule();
      void live.refresh(id);
    },
    // The header shows the session's real size, whichever client (or REST call) set it.
    onSize: (cols, rows) => {
      if (session !== undefined) session = { ...session, cols, rows };
      renderHead();
    },
    onStatus: (status, detail) => header.showLink(status, detail, pane.connection.isReadOnly),
  });
  disposer.add(pane);
  const controls = new SessionControls(id, act, (readOnly) => {
    pane.connection.setReadOnly(readOnly);
    pane.setInputDisabled(readOnly || session?.state === 'terminated');
  });
  disposer.add(controls);
  const search = new SearchPanel(id, pane.term);
  const conversation = new ConversationPanel(id);
  disposer.add(conversation);
  const sideTabs = h('aside', { class: 'side panel' });
  const showTabs = (agent: boolean): void => {
    replaceChildren(sideTabs, renderTabs([
      ...(agent ? [{ id: 'conversation', label: 'Conversation', body: [conversation.element] }] : []),
      { id: 'timeline', label: 'Timeline', body: [timeline.element] },
      { id: 'commands', label: 'Commands', body: [commands.element] },
      { id: 'search', label: 'Search', body: search.elements },
    ]));
    if (agent) void conversation.load();
  };
  showTabs(false);
  // Agent sessions (a profile with an agent section) get the conversation and the prompt box beside the terminal.
  Promise.all([sessionsApi.catalog(), session ?? sessionsApi.get(id)]).then(
    ([catalog, known]) => {
      const profile = catalog.profiles.find((p) => p.name === known.profile);
      if (profile?.agent === true && !disposer.isDisposed) showTabs(true);
    },
    (error: unknown) => console.warn('no profile catalog', error),
  );

  replaceChildren(
    root,
    h('nav', { class: 'crumbs' }, h('a', { attrs: { href: '#/' } }, '← Sessions')),
    header.element,
    banner.element,
    controls.element,
    question.element,
    h('div', { class: 'session-main' },
      pane.element,
      sideTabs,
    ),
  );
  pane.open();
  disposer.add(installTerminalProbe(id, pane));

  let renameShown: string | null = null;
  function renderHead(): void {
    header.render(session);
    if (session === undefined) return;
    // The rename control is redrawn only when the session's name or liveness changed (not while being typed in).
    const renameKey = `${session.name ?? ''}:${session.state === 'terminated'}`;
    if (renameShown !== renameKey) {
      renameShown = renameKey;
      header.setRename(renameButton(session, (renamed) => {
        session = renamed;
        renderHead();
        void live.refresh(id);
      }, (text) => banner.flash(text)));
    }
    controls.setEnded(session.state === 'terminated' || session.state === 'terminating');
    conversation.setEnded(session.state === 'terminated' || session.state === 'terminating');
    if (session.exit !== null) showEnded(session.exit);
  }

  function showEnded(exit: ExitInfo): void {
    banner.showEnded(exit);
    pane.setInputDisabled(true);
    question.hide();
  }

  renderHead();
  pane.fit();
  const start = (): void => {
    renderHead();
    if (session?.state === 'terminated' && session.exit !== null) showEnded(session.exit);
    pane.connection.connect();
    void history.load();
    void question.update();
  };
  if (session === undefined) {
    // Opened by URL before the list loaded: read the session first so the replay starts at the right offset.
    sessionsApi.get(id).then(
      (info) => {
        session = info;
        pane.setPipe(info.kind === 'pipe');
        pane.connection.startAt(replayStart(info));
        start();
      },
      (error: unknown) => {
        banner.flash(error instanceof ApiError ? error.message : String(error));
        header.showLink('refused', 'unknown session', pane.connection.isReadOnly);
      },
    );
  } else {
    start();
  }
  const focusTimer = window.setTimeout(() => pane.focus(), 0);
  disposer.add(() => window.clearTimeout(focusTimer));
  return disposer;
}

/** Where a new view starts reading: the last INITIAL_REPLAY_BYTES of what the daemon still has. */
function replayStart(session: SessionInfo): number {
  return Math.max(session.output.firstAvailableOffset, session.output.totalBytes - INITIAL_REPLAY_BYTES);
}
