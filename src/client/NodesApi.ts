// `corral.nodes`: a fleet's nodes (`corral serve --cluster`): list, drain, forget. A daemon that is not in a fleet
// answers NOT_FOUND (it has no /nodes routes).

import type { DrainReply, ForgetReply, NodeInfo, NodesReply } from '../protocol/apiReplies.js';
import type { RestTransport } from './RestTransport.js';
import type { CallOptions } from './SessionsApi.js';

export class NodesApi {
  constructor(private readonly transport: RestTransport) {}

  async list(options: CallOptions = {}): Promise<NodeInfo[]> {
    return (await this.transport.request<NodesReply>('GET', '/api/v1/nodes', undefined, options)).nodes;
  }

  /** Stops new placements on the node (`draining: false` resumes them); answers what still runs there. */
  drain(name: string, draining = true, options: CallOptions = {}): Promise<DrainReply> {
    return this.transport.request<DrainReply>('POST', `/api/v1/nodes/${encodeURIComponent(name)}/drain`, { draining }, options);
  }

  /** Declares an unreachable node gone: its sessions end as lost (exit reason `lost`). */
  forget(name: string, options: CallOptions = {}): Promise<ForgetReply> {
    return this.transport.request<ForgetReply>('POST', `/api/v1/nodes/${encodeURIComponent(name)}/forget`, undefined, options);
  }
}
