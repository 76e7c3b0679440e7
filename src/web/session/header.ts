// The session view's header: state badge, title, a meta line (profile, kind, pid, task, cwd, size, age, exit), a
// line saying how the session is held and walled in (cgroup and limits, sandbox; the binds on hover) and the link
// status of the terminal's socket. Names, cwds and commands are caller data: set as text only.

import type { SessionInfo } from '../../protocol/sessionTypes.js';
import { containmentText, sandboxBindsText, sandboxText } from '../../protocol/isolationText.js';
import { h, replaceChildren } from '../dom.js';
import { age, exitText, nodeBadge, sessionTitle, stateBadge } from '../format.js';
import type { LinkStatus } from '../terminalConnection.js';

export class SessionHeader {
  readonly element: HTMLElement;
  private readonly badgeSlot = h('span', { attrs: { id: 'session-state' } });
  private readonly titleEl = h('h2', { class: 'session-title' });
  private readonly meta = h('p', { class: 'meta' });
  private readonly isolation = h('p', { class: 'meta isolation', attrs: { id: 'session-isolation' } });
  /** An agent CLI version the profile was not verified against: its screens may have drifted (profile_mismatch). */
  private readonly versionWarning = h('p', { class: 'version-warning', attrs: { id: 'agent-version-warning', role: 'note' } });
  private readonly renameSlot = h('span', { class: 'rename-slot' });
  private readonly linkStatus = h('span', { class: 'link-status', attrs: { id: 'link-status', role: 'status' } });

  constructor(private readonly sessionId: string) {
    this.element = h('header', { class: 'session-head' }, h('div', { class: 'title-row' }, this.badgeSlot, this.titleEl, this.renameSlot, this.linkStatus), this.meta, this.isolation, this.versionWarning);
    this.versionWarning.hidden = true;
  }

  /** Shows `session`, or only its id while it is not known yet. */
  render(session: SessionInfo | undefined): void {
    if (session === undefined) {
      this.titleEl.textContent = this.sessionId;
      return;
    }
    const node = nodeBadge(session);
    replaceChildren(this.badgeSlot, stateBadge(session.state), ...(node === null ? [] : [' ', node]));
    this.titleEl.textContent = sessionTitle(session);
    const parts = [
      session.profile,
      session.kind,
      session.pid === null ? null : `pid ${session.pid}`,
      session.taskId === null ? null : `task ${session.taskId}`,
      session.cwd,
      `${session.cols}×${session.rows}`,
      `started ${age(session.createdAt)} ago`,
      session.exit === null ? null : exitText(session.exit),
    ].filter((p): p is string => p !== null);
    this.meta.textContent = parts.join(' · ');
    this.meta.title = session.command.join(' ');
    const isolation = [containmentText(session), sandboxText(session)].filter((p): p is string => p !== null);
    this.isolation.hidden = isolation.length === 0;
    this.isolation.textContent = isolation.join(' · ');
    this.isolation.title = sandboxBindsText(session) ?? '';
    const agent = session.agent;
    const unverified = agent !== undefined && agent.versionVerified === false;
    this.versionWarning.hidden = !unverified;
    this.versionWarning.textContent = unverified
      ? `${session.profile} ${agent.version ?? '?'} is not a version this profile was verified with (${agent.verifiedVersions.join(', ') || 'none'}): states may be wrong.`
      : '';
  }

  /** The rename control beside the title. */
  setRename(control: HTMLElement): void {
    replaceChildren(this.renameSlot, control);
  }

  showLink(status: LinkStatus, detail: string, readOnly: boolean): void {
    const text: Record<LinkStatus, string> = {
      connecting: 'connecting…',
      live: readOnly ? '● live (read-only)' : '● live',
      reconnecting: `reconnecting… ${detail}`,
      ended: 'ended',
      refused: `not connected: ${detail}`,
    };
    this.linkStatus.textContent = text[status];
    this.linkStatus.className = `link-status link-${status}`;
  }
}
