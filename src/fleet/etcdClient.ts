// One etcd client per node, failing fast: a call that cannot reach etcd gives up after a short deadline with no
// retries or circuit breaker of its own, because the fleet's periodic tick is the retry and must see an outage (and
// the recovery) at once rather than seconds later.

import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';

/** One etcd call's deadline: etcd answers on a LAN in milliseconds; past this it counts as down. */
export const ETCD_CALL_DEADLINE_MS = 1_500;

export function createEtcdClient(endpoints: string[]): Etcd3 {
  return new Etcd3({
    hosts: endpoints.map((endpoint) => `http://${endpoint}`),
    dialTimeout: ETCD_CALL_DEADLINE_MS,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + ETCD_CALL_DEADLINE_MS }),
    faultHandling: { host: () => noop, global: noop },
  });
}
