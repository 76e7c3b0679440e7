// One etcd client per node, failing fast: a call that cannot reach etcd gives up after a short deadline with no
// retries or circuit breaker of its own, because the fleet's periodic tick is the retry and must see an outage (and
// the recovery) at once rather than seconds later.

import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';
import type { FleetOptions } from './fleetOptions.js';

/** One etcd call's deadline: etcd answers on a LAN in milliseconds; past this it counts as down. */
export const ETCD_CALL_DEADLINE_MS = 1_500;

export function createEtcdClient(endpoints: string[], tls?: FleetOptions['etcdTls']): Etcd3 {
  return new Etcd3({
    hosts: endpoints.map((endpoint) => `${tls === undefined ? 'http' : 'https'}://${endpoint}`),
    ...(tls === undefined ? {} : { credentials: { rootCertificate: tls.ca, ...(tls.cert === undefined || tls.key === undefined ? {} : { certChain: tls.cert, privateKey: tls.key }) } }),
    dialTimeout: ETCD_CALL_DEADLINE_MS,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + ETCD_CALL_DEADLINE_MS }),
    faultHandling: { host: () => noop, global: noop },
  });
}

/**
 * `work`, or a rejection after `ms`: a bound on anything that talks to etcd, whatever the client does inside (some
 * of its calls wait for a connection rather than fail), so a tick, a request or a stop never hangs on an outage.
 */
export function withDeadline<T>(work: Promise<T>, ms = 2 * ETCD_CALL_DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`etcd did not answer within ${ms} ms`)), ms);
  });
  // The late call may still fail after we gave up on it: nobody waits for it, so its rejection is dropped here.
  work.catch(() => undefined);
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
