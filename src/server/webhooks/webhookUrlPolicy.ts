// Which URLs webhooks may be sent to: loopback only unless the operator allows more (`corral serve
// --webhook-allow`). A daemon that runs commands must not become a request cannon aimed at the network.

import { CorralError } from '../../protocol/errors.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export class WebhookUrlPolicy {
  private readonly origins = new Set<string>();
  private readonly hosts = new Set<string>();

  /** Each entry is an origin (`https://hooks.example.com:8443`) or a bare host name (`hooks.example.com`, any port). */
  constructor(allow: readonly string[] = []) {
    for (const entry of allow) {
      const value = entry.trim().toLowerCase();
      if (value === '') continue;
      if (value.includes('://')) this.origins.add(new URL(value).origin);
      else this.hosts.add(value);
    }
  }

  /** Throws WEBHOOK_URL_NOT_ALLOWED (or BAD_REQUEST for a malformed URL); returns the normalised URL. */
  check(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch (error) {
      // new URL throws TypeError for anything that is not an absolute URL.
      throw new CorralError('BAD_REQUEST', `Not an absolute URL: ${raw}`, { cause: error });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new CorralError('WEBHOOK_URL_NOT_ALLOWED', `Webhooks are http or https, not ${url.protocol}`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new CorralError('WEBHOOK_URL_NOT_ALLOWED', 'Webhook URLs must not carry credentials; use the secret.');
    }
    const host = url.hostname.toLowerCase();
    if (LOOPBACK_HOSTS.has(host) || this.hosts.has(host) || this.origins.has(url.origin)) return url.toString();
    throw new CorralError(
      'WEBHOOK_URL_NOT_ALLOWED',
      `Webhooks may only go to 127.0.0.1/localhost unless the daemon allows more (corral serve --webhook-allow ${url.origin}).`,
      { details: { url: url.origin } },
    );
  }
}
