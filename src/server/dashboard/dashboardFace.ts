// The web dashboard face: serves the built front end (dist/web) at `/`, the login/logout routes, the one-time
// login links behind `corral token --url`, and the cookie check that REST and WebSocket doors consult.
// Holds no session state; must never accept the token from a URL or set a cookie script can read.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CorralError } from '../../protocol/errors.js';
import { API_PREFIX } from '../appContext.js';
import { readCookie, SESSION_COOKIE, tokensEqual } from '../auth.js';
import type { DaemonFace, FaceContext } from '../face.js';
import { DashboardSessions } from './DashboardSessions.js';
import { appPage, DASHBOARD_CSP, loginPage, missingAssetsPage } from './dashboardPages.js';

/** Where `npm run build:web` puts the bundle; the same path from src/server/dashboard and dist/server/dashboard. */
const WEB_ASSETS_DIR = join(import.meta.dirname, '..', '..', '..', 'dist', 'web');
/** Header the dashboard sends on every API call; with Origin, one of them must be on a cookie-authenticated write. */
export const CSRF_HEADER = 'x-corral-request';
/** Browser logins (hashes of their cookies, expiries) in the data dir, so a restart does not log everyone out. */
/** A login form body holds one token (43 chars) and a field name: 4 KiB is plenty and caps what we parse. */
const LOGIN_BODY_LIMIT_BYTES = 4096;
/** Only flat file names with these extensions are served from the assets dir: no paths, no dotfiles. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.(js|css|map|woff2|svg|png)$/;
const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
  woff2: 'font/woff2',
  svg: 'image/svg+xml',
  png: 'image/png',
};
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class DashboardFace implements DaemonFace {
  /** The logins of the last daemon attached (tests look at them). */
  last: DashboardSessions | null = null;

  constructor(private readonly options: { assetsDir?: string } = {}) {}

  attach(context: FaceContext): void {
    const sessions = new DashboardSessions(Date.now, context.loginStore ?? null);
    this.last = sessions;
    context.door.cookieValid = (value) => sessions.isValid(value);
    const assetsDir = this.options.assetsDir ?? WEB_ASSETS_DIR;
    const app = context.app;
    context.routes.describe({
      method: 'POST',
      url: '/auth/login-links',
      summary: 'Mint a one-time dashboard login link (single use, 60 s); needs the bearer token, not the cookie',
      tag: 'dashboard',
    });
    context.routes.describe({ method: 'GET', url: '/dashboard/catalog', summary: 'Profiles and templates for the new-session form', tag: 'dashboard' });
    context.routes.describe({ method: 'GET', url: '/login', prefixed: false, summary: 'Login page; ?code= spends a one-time link and sets the session cookie', tag: 'dashboard', public: true });

    // CSRF: a cookie rides along on any request the browser makes, so a cookie-authenticated write must also
    // show it came from our own page: an Origin header (the door has already checked it against the allowlist)
    // or our custom header, which a cross-site form cannot set.
    app.addHook('onRequest', async (request) => {
      if (SAFE_METHODS.has(request.method) || request.headers.authorization !== undefined) return;
      if (readCookie(request.headers.cookie, SESSION_COOKIE) === undefined) return;
      if (request.headers.origin !== undefined || request.headers[CSRF_HEADER] !== undefined) return;
      throw new CorralError('FORBIDDEN_ORIGIN', `A request that changes state with the login cookie needs an Origin or ${CSRF_HEADER} header.`);
    });

    void app.register(async (scope: FastifyInstance) => {
      // Scoped to this plugin: the API routes keep taking JSON only.
      scope.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string', bodyLimit: LOGIN_BODY_LIMIT_BYTES },
        (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
      );
      const open = { config: { public: true } };

      scope.get('/', open, async (request, reply) => {
        if (!loggedIn(request, sessions)) return reply.code(303).header('location', '/login').send();
        pageHeaders(reply);
        const page = existsSync(join(assetsDir, 'main.js')) ? appPage(context.version) : missingAssetsPage();
        return reply.type('text/html; charset=utf-8').send(page);
      });

      scope.get('/assets/:name', open, async (request, reply) => {
        const { name } = request.params as { name: string };
        const ext = ASSET_NAME.exec(name)?.[1];
        if (ext === undefined) throw new CorralError('NOT_FOUND', `No asset ${name}.`);
        let body: Buffer;
        try {
          body = await readFile(join(assetsDir, name));
        } catch (error) {
          // ENOENT: not built or not ours; anything else (EACCES, EISDIR) is a real fault for the error handler.
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CorralError('NOT_FOUND', `No asset ${name}.`);
          throw error;
        }
        // Revalidate every time: a rebuild must show up on the next load, and the files are small.
        return reply
          .header('cache-control', 'no-cache')
          .header('x-content-type-options', 'nosniff')
          .type(CONTENT_TYPES[ext] ?? 'application/octet-stream')
          .send(body);
      });

      scope.get('/login', open, async (request, reply) => {
        pageHeaders(reply);
        const code = new URL(request.url, 'http://placeholder').searchParams.get('code');
        if (code === null) {
          if (loggedIn(request, sessions)) return reply.code(303).header('location', '/').send();
          return reply.type('text/html; charset=utf-8').send(loginPage(null));
        }
        if (!sessions.redeemCode(code)) {
          return reply
            .code(401)
            .type('text/html; charset=utf-8')
            .send(loginPage('That login link was already used or has expired. Run `corral token --url` for a new one.'));
        }
        // 303 to `/`: the code leaves the address bar (and history) the moment it is spent.
        return startSession(reply, sessions).code(303).header('location', '/').send();
      });

      scope.post('/login', { ...open, bodyLimit: LOGIN_BODY_LIMIT_BYTES }, async (request, reply) => {
        pageHeaders(reply);
        const body = request.body as { token?: unknown } | undefined;
        const token = typeof body?.token === 'string' ? body.token.trim() : '';
        const wantsJson = (request.headers['content-type'] ?? '').startsWith('application/json');
        if (token === '' || !tokensEqual(token, context.door.token)) {
          // Guessing through the form costs the same per-peer budget as a wrong bearer token.
          const retryAfterSeconds = context.door.failures?.fail(request.ip) ?? 0;
          if (retryAfterSeconds > 0) {
            throw new CorralError('RATE_LIMITED', `Too many wrong tokens from this address; retry in ${retryAfterSeconds} s.`, { retryAfterSeconds });
          }
          context.logger.warn({ ip: request.ip }, 'dashboard login refused: wrong token');
          if (wantsJson) throw new CorralError('UNAUTHORIZED', 'Wrong token.');
          return reply.code(401).type('text/html; charset=utf-8').send(loginPage('Wrong token.'));
        }
        startSession(reply, sessions);
        if (wantsJson) return reply.send({ ok: true });
        return reply.code(303).header('location', '/').send();
      });

      scope.post('/logout', open, async (request, reply) => {
        const id = readCookie(request.headers.cookie, SESSION_COOKIE);
        if (id !== undefined) sessions.closeSession(id);
        pageHeaders(reply);
        return reply.code(303).header('set-cookie', cookieHeader(reply, '', 0)).header('location', '/login').send();
      });

      scope.post(`${API_PREFIX}/auth/login-links`, async (request, reply) => {
        // A browser session must not be able to mint more logins for itself or others: bearer token only.
        if (request.headers.authorization === undefined) {
          throw new CorralError('UNAUTHORIZED', 'Login links need the API token (Authorization: Bearer), not the login cookie.');
        }
        const { code, expiresAt } = sessions.mintCode();
        const path = `/login?code=${encodeURIComponent(code)}`;
        const host = request.headers.host ?? '127.0.0.1';
        reply.header('cache-control', 'no-store');
        return reply.code(201).send({ url: `${request.protocol}://${host}${path}`, path, expiresAt: new Date(expiresAt).toISOString() });
      });

      // What the "new session" form offers: profile names and stored templates (read-only).
      scope.get(`${API_PREFIX}/dashboard/catalog`, async () => ({
        profiles: context.engine.profiles.list(),
        templates: context.engine.presets.templates.list(),
      }));
    });
  }
}

function loggedIn(request: FastifyRequest, sessions: DashboardSessions): boolean {
  const id = readCookie(request.headers.cookie, SESSION_COOKIE);
  return id !== undefined && sessions.isValid(id);
}

function cookieHeader(reply: FastifyReply, value: string, maxAgeSeconds: number): string {
  // HttpOnly keeps it from scripts, Strict from other sites. `Secure` only when the daemon serves TLS (--tls-cert):
  // on plain HTTP (loopback, the default) a browser would never send it back.
  const secure = reply.request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

function startSession(reply: FastifyReply, sessions: DashboardSessions): FastifyReply {
  const { id, maxAgeMs } = sessions.openSession();
  return reply.header('set-cookie', cookieHeader(reply, id, Math.floor(maxAgeMs / 1000)));
}

function pageHeaders(reply: FastifyReply): void {
  reply
    .header('content-security-policy', DASHBOARD_CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on form posts, which the
    // door (rightly) refuses; other sites still get no referrer.
    .header('referrer-policy', 'same-origin')
    .header('cache-control', 'no-store');
}
