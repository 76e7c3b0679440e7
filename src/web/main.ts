// The dashboard's entry point: the header (with logout), a hash router between the sessions list and one
// session, and the live session feed both views share. Must never read or store the token: the cookie is HttpOnly.

import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { h, replaceChildren, type Disposable } from './dom.js';
import { LiveSessions } from './liveSessions.js';
import { renderSessionView } from './sessionView.js';
import { renderSessionsView } from './sessionsView.js';

const SESSION_ROUTE = /^#\/s\/([A-Za-z0-9_-]+)$/;

function boot(): void {
  const app = document.getElementById('app');
  if (app === null) return;
  const version = app.dataset.version ?? '';
  const live = new LiveSessions();
  const main = h('main', { attrs: { id: 'view', tabindex: '-1' } });
  const logout = h('form', { class: 'logout', attrs: { method: 'post', action: '/logout' } }, h('button', { attrs: { type: 'submit', id: 'logout' } }, 'Log out'));
  replaceChildren(
    app,
    // The hash is the router's: the skip link moves focus itself instead of navigating to #view.
    h('a', { class: 'skip', attrs: { href: '#/' }, on: { click: (event) => (event.preventDefault(), main.focus()) } }, 'Skip to content'),
    h('header', { class: 'top' },
      h('a', { class: 'brand', attrs: { href: '#/' } }, h('span', { class: 'logo', attrs: { 'aria-hidden': 'true' } }, '◎'), ' Corral'),
      h('span', { class: 'version' }, version === '' ? '' : `v${version}`),
      h('span', { class: 'spacer' }),
      logout,
    ),
    main,
  );

  let view: Disposable | null = null;
  const route = (): void => {
    view?.dispose();
    const match = SESSION_ROUTE.exec(window.location.hash);
    if (match?.[1] !== undefined) {
      document.title = `${match[1]} · Corral`;
      view = renderSessionView(main, match[1], live);
    } else {
      document.title = 'Sessions · Corral';
      view = renderSessionsView(main, live, (hash) => window.location.assign(hash));
    }
  };
  window.addEventListener('hashchange', route);
  live.start();
  route();
}

boot();
