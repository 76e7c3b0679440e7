// deploy/kubernetes cannot run here (no cluster, and kubectl validates against a live API server only): these checks
// validate every manifest offline against the Kubernetes API schemas (kubernetes-models, from npm), and hold the
// parts that must agree with each other and with `corral serve`: the headless Service the StatefulSet names, the selectors, the ports, the secrets behind the
// token files, and that every flag the pods pass is one `corral serve --help` documents.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { StatefulSet } from 'kubernetes-models/apps/v1';
import { Service } from 'kubernetes-models/v1';
import { corralCommand, REPO_ROOT } from '../helpers/daemonHarness.js';

const yaml = createRequire(import.meta.url)('js-yaml') as { loadAll(text: string): unknown[] };

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown> & {
    clusterIP?: string;
    selector?: Record<string, unknown>;
    ports?: { name: string; port: number; targetPort: string }[];
  };
}

interface Container {
  args: string[];
  ports: { name: string; containerPort: number }[];
  volumeMounts: { name: string; mountPath: string }[];
  readinessProbe: { httpGet: { path: string; port: string; httpHeaders: { name: string; value: string }[] } };
}

const docs = yaml.loadAll(readFileSync(join(REPO_ROOT, 'deploy', 'kubernetes', 'corral-fleet.yaml'), 'utf8')).filter((doc) => doc !== null) as Manifest[];

test('every manifest is valid against the Kubernetes API schema (offline, kubernetes-models), and a broken one is not', () => {
  const models: Record<string, (doc: Manifest) => { validate(): void }> = {
    StatefulSet: (doc) => new StatefulSet(doc as unknown as ConstructorParameters<typeof StatefulSet>[0]),
    Service: (doc) => new Service(doc as unknown as ConstructorParameters<typeof Service>[0]),
  };
  assert.ok(docs.length >= 3);
  for (const doc of docs) {
    const model = models[doc.kind];
    assert.ok(model !== undefined, `a schema for ${doc.kind}`);
    assert.doesNotThrow(() => model(doc).validate(), `${doc.kind} ${doc.metadata.name}`);
  }
  const set = docs.find((doc) => doc.kind === 'StatefulSet') as Manifest;
  const broken = { ...set, spec: { ...set.spec, replicas: 'three' } };
  assert.throws(() => models.StatefulSet?.(broken).validate(), /replicas must be integer/);
});

function one(kind: string, name?: string): Manifest {
  const found = docs.filter((doc) => doc.kind === kind && (name === undefined || doc.metadata.name === name));
  assert.equal(found.length, 1, `one ${kind} ${name ?? ''}`);
  return found[0] as Manifest;
}

test('a StatefulSet of nodes behind a headless Service, and a front Service on the same pods', () => {
  const set = one('StatefulSet');
  const headless = one('Service', set.spec.serviceName as string);
  assert.equal(headless.spec.clusterIP, 'None', 'the StatefulSet names a headless Service');
  const front = docs.find((doc) => doc.kind === 'Service' && doc.spec.clusterIP !== 'None');
  assert.ok(front !== undefined, 'a front Service');
  const template = set.spec.template as { metadata: { labels: Record<string, string> }; spec: { containers: Container[]; volumes: { name: string; secret?: { secretName: string; defaultMode: number } }[] } };
  const podLabels = template.metadata.labels;
  for (const service of [headless, front]) {
    for (const [key, value] of Object.entries(service.spec.selector ?? {})) assert.equal(podLabels[key], value, `${service.metadata.name} selects the pods`);
  }
  assert.deepEqual((set.spec.selector as { matchLabels: Record<string, string> }).matchLabels, podLabels);
  const container = template.spec.containers[0] as Container;
  const portNames = new Set(container.ports.map((port) => port.name));
  for (const service of [headless, front]) for (const port of service.spec.ports ?? []) assert.ok(portNames.has(port.targetPort), `${service.metadata.name} targets a container port`);
  assert.equal(container.readinessProbe.httpGet.path, '/healthz');
  assert.ok(container.readinessProbe.httpGet.httpHeaders.some((header) => header.name === 'Host'), 'the probe names a Host the door accepts');
});

test('each pod joins the fleet with its own name, an advertise URL under the headless Service, and token files from secrets', () => {
  const set = one('StatefulSet');
  const template = set.spec.template as { spec: { containers: Container[]; volumes: { name: string; secret?: { secretName: string; defaultMode: number } }[] } };
  const container = template.spec.containers[0] as Container;
  const flag = (name: string): string | undefined => container.args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  assert.match(flag('cluster') ?? '', /^etcd:\/\/[^/]+:\d+$/);
  assert.equal(flag('node-name'), '$(POD_NAME)');
  assert.ok((flag('advertise-url') ?? '').startsWith(`http://$(POD_NAME).${set.spec.serviceName as string}.`), 'the advertise URL is the pod\'s DNS name');
  assert.ok(container.args.includes('--allow-remote'));
  for (const file of ['token-file', 'cluster-token-file']) {
    const path = flag(file) ?? '';
    const mount = container.volumeMounts.find((m) => path.startsWith(`${m.mountPath}/`));
    assert.ok(mount !== undefined, `--${file} lies under a mount`);
    const volume = template.spec.volumes.find((v) => v.name === mount.name);
    assert.ok(volume?.secret !== undefined, `--${file} comes from a secret`);
    assert.equal(volume.secret.defaultMode, 0o400, 'corral refuses token files others can read');
  }
  assert.notEqual(flag('token-file'), flag('cluster-token-file'), 'the cluster token is not the client token');
});

test('every flag the pods pass is one corral serve documents', () => {
  const { file, args } = corralCommand(false);
  const help = spawnSync(file, [...args, 'serve', '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  const set = one('StatefulSet');
  const container = (set.spec.template as { spec: { containers: Container[] } }).spec.containers[0] as Container;
  assert.equal(container.args[0], 'serve');
  for (const arg of container.args.slice(1)) {
    const name = /^(--[a-z-]+)/.exec(arg)?.[1];
    assert.ok(name !== undefined && help.stdout.includes(`${name} `), `${arg}: not an option of corral serve`);
  }
});
