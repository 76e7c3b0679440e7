// `corral.templates` and `corral.macros`: the named-preset collections (list, get, put, delete). Knows nothing of
// what a template or macro holds; the daemon validates bodies.

import type { DeletedReply } from '../protocol/apiReplies.js';
import type { RestTransport } from './RestTransport.js';

export class PresetsApi<Body, Item> {
  constructor(
    private readonly transport: RestTransport,
    private readonly collection: 'templates' | 'macros',
  ) {}

  async list(): Promise<Item[]> {
    const reply = await this.transport.request<{ [name: string]: Item[] | undefined }>('GET', this.path());
    return reply[this.collection] ?? [];
  }

  get(name: string): Promise<Item> {
    return this.transport.request<Item>('GET', this.path(name));
  }

  /** Creates or replaces the preset by name. */
  put(name: string, body: Body): Promise<Item> {
    return this.transport.request<Item>('PUT', this.path(name), body);
  }

  delete(name: string): Promise<DeletedReply> {
    return this.transport.request<DeletedReply>('DELETE', this.path(name));
  }

  private path(name?: string): string {
    return `/api/v1/${this.collection}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
  }
}
