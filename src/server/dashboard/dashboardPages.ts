// The dashboard's two HTML pages (the app shell and the login form), rendered server-side as fixed strings.
// Must never put the token, a login code or any caller-supplied text into a page unescaped.

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** CSP for every dashboard page: our own scripts only, no inline script, sockets to this origin, no framing. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // xterm.js writes <style> elements for its theme and cell sizes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HEAD = `<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/main.css">`;

export function appPage(version: string): string {
  return `<!doctype html>
<html lang="en">
<head>
${HEAD}
<title>Corral</title>
</head>
<body>
<div id="app" data-version="${escapeHtml(version)}"><p class="boot">Loading Corral…</p></div>
<script type="module" src="/assets/main.js"></script>
</body>
</html>
`;
}

export function loginPage(message: string | null): string {
  const notice = message === null ? '' : `<p class="notice error" role="alert">${escapeHtml(message)}</p>`;
  return `<!doctype html>
<html lang="en">
<head>
${HEAD}
<title>Log in · Corral</title>
</head>
<body class="login-body">
<main class="login-card">
<h1><span class="logo" aria-hidden="true">◎</span> Corral</h1>
${notice}
<p>Run <code>corral token --url</code> and open the link it prints, or paste the API token here.</p>
<form method="post" action="/login" autocomplete="off">
<label for="token">API token</label>
<input id="token" name="token" type="password" required autofocus spellcheck="false">
<button type="submit">Log in</button>
</form>
</main>
</body>
</html>
`;
}

export function missingAssetsPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Corral</title></head><body>
<p>The dashboard is not built. Run <code>npm run build</code> (or <code>npm run build:web</code>) in the Corral checkout.</p>
</body></html>
`;
}
