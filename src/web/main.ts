// The dashboard's entry point: the header (with logout and the daemon link's state), a hash router between the
// sessions list, the grid and one session, the live session feed the views share, and the tab title's count of
// sessions that need a person. Must never read or store the token: the cookie is HttpOnly.

import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { h, replaceChildren, type Disposable } from './dom.js';
import { watchAttention } from './attention.js';
import { renderGridView } from './grid.js';
import { LiveSessions } from './liveSessions.js';
import { renderSessionView } from './sessionView.js';
import { renderSessionsView } from './sessionsView.js';

const SESSION_ROUTE = /^#\/s\/([A-Za-z0-9_-]+)$/;
const GRID_ROUTE = '#/grid';

function boot(): void {
  const app = document.getElementById('app');
  if (app === null) return;
  const version = app.dataset.version ?? '';
  const live = new LiveSessions();
  const main = h('main', { attrs: { id: 'view', tabindex: '-1' } });
  const daemonLink = h('span', { class: 'daemon-link', attrs: { id: 'daemon-link', role: 'status' } });
  const logout = h('form', { class: 'logout', attrs: { method: 'post', action: '/logout' } }, h('button', { attrs: { type: 'submit', id: 'logout' } }, 'Log out'));
  replaceChildren(
    app,
    // The hash is the router's: the skip link moves focus itself instead of navigating to #view.
    h('a', { class: 'skip', attrs: { href: '#/' }, on: { click: (event) => (event.preventDefault(), main.focus()) } }, 'Skip to content'),
    h('header', { class: 'top' },
      h('a', { class: 'brand', attrs: { href: '#/' } }, h('span', { class: 'logo', attrs: { 'aria-hidden': 'true' } }, '◎'), ' Corral'),
      h('span', { class: 'version' }, version === '' ? '' : `v${version}`),
      h('span', { class: 'spacer' }),
      daemonLink,
      logout,
    ),
    main,
  );

  let view: Disposable | null = null;
  let pageTitle = 'Sessions · Corral';
  const navigate = (hash: string): void => window.location.assign(hash);
  const route = (): void => {
    view?.dispose();
    const match = SESSION_ROUTE.exec(window.location.hash);
    if (match?.[1] !== undefined) {
      pageTitle = `${live.sessions.get(match[1])?.name ?? match[1]} · Corral`;
      view = renderSessionView(main, match[1], live);
    } else if (window.location.hash === GRID_ROUTE) {
      pageTitle = 'Grid · Corral';
      view = renderGridView(main, live, navigate);
    } else {
      pageTitle = 'Sessions · Corral';
      view = renderSessionsView(main, live, navigate);
    }
    document.title = pageTitle;
  };
  // The daemon going away (a restart: sessions outlive it) shows here until its next incarnation answers.
  live.onChange(() => {
    const down = live.reconnecting;
    daemonLink.textContent = down ? 'Reconnecting to the daemon…' : '';
    daemonLink.classList.toggle('down', down);
    document.body.dataset.daemon = down ? 'reconnecting' : 'connected';
  });
  window.addEventListener('hashchange', route);
  live.start();
  route();
  watchAttention(live, () => pageTitle);
}

boot();
