// A throwaway certificate authority for TLS tests, made with the openssl command line (Node can read certificates but
// not issue them): a CA, and one certificate for 127.0.0.1/localhost that serves as a daemon's, a node's, etcd's
// and a client's (serverAuth and clientAuth). Valid for a day; the files live in the caller's temp dir.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  caFile: string;
  certFile: string;
  keyFile: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export function makeTestCertificates(dir: string): TestCertificates {
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '1', '-subj', '/CN=corral test CA');
  openssl('req', ...ec, '-keyout', file('node.key'), '-out', file('node.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(file('node.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  openssl('x509', '-req', '-in', file('node.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('node.pem'), '-days', '1', '-extfile', file('node.ext'));
  return {
    caFile: file('ca.pem'),
    certFile: file('node.pem'),
    keyFile: file('node.key'),
    ca: readFileSync(file('ca.pem')),
    cert: readFileSync(file('node.pem')),
    key: readFileSync(file('node.key')),
  };
}
