// The deployment files, checked structurally (no container runtime or cluster runs here): the Dockerfile's stages and
// the repository files it copies and runs, deploy/compose.yaml's services, images, mounts and dependencies, the
// Kubernetes manifests' required fields, selectors, probes and references to the ConfigMap/Secret, and every `ocrops`
// command they run, which must parse with the real CLI (`... --help` exits 0; an unknown option would fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { repoRoot } from '@ocrops/common';
import { groups } from '@ocrops/cli';
import { runOcrops } from './utils.js';

const root = repoRoot();
const IMAGE = 'ocrops:latest';
const LAUNCHER = '/app/packages/cli/bin/ocrops.mjs';

interface Instruction {
  op: string;
  args: string;
  stage: number;
}

/** Dockerfile instructions with continuation lines joined and comments dropped; `stage` counts FROM lines. */
function dockerfile(path: string): Instruction[] {
  const text = readFileSync(path, 'utf8').replace(/\\\n/g, ' ');
  let stage = -1;
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      if (op.toUpperCase() === 'FROM') stage++;
      return { op: op.toUpperCase(), args: rest.join(' '), stage };
    });
}

/** An image path inside the container (`/app/x`) as a repository path. */
const inRepo = (p: string) => join(root, p.replace(/^\/app\//, ''));

/** `${VAR:-x}` (compose) and `$(VAR)` (Kubernetes) replaced by a dummy value, for parsing the command. */
const substitute = (a: string) =>
  a.replace(/\$\{[^}]+\}|\$\([A-Z_]+\)/g, (m) => (/SWEEP_ID/.test(m) ? '0123456789abcdef0123456789abcdef' : 'x'));

/** Runs `ocrops <argv> --help` (bounded): resolves to exit code and output. */
async function cliHelp(argv: string[]): Promise<{ code: number | null; out: string }> {
  const r = await runOcrops([...argv, '--help'], { timeoutMs: 240_000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

/** Every `ocrops` command line the deployment runs, with where it comes from. */
const commands: Array<{ where: string; argv: string[] }> = [];

test('Dockerfile: a build stage running scripts/setup, a slim runtime stage, repository paths that exist', () => {
  const ins = dockerfile(join(root, 'Dockerfile'));
  const froms = ins.filter((i) => i.op === 'FROM');
  assert.ok(froms.length >= 2, 'multi-stage');
  assert.match(froms[0].args, /^node:20[\w.-]* AS build$/);
  const runtime = froms.at(-1)!;
  assert.match(runtime.args, /^node:20[\w.-]*-slim\b/, 'a small runtime base');
  const last = runtime.stage;
  const runs = ins
    .filter((i) => i.op === 'RUN' && i.stage === 0)
    .map((i) => i.args)
    .join(' ');
  assert.match(runs, /scripts\/setup --no-apt/, 'the build stage builds like a development machine');
  assert.ok(readFileSync(join(root, 'scripts/setup'), 'utf8').includes('--no-apt)'), 'scripts/setup accepts --no-apt');
  for (const m of runs.matchAll(/\bnode ([\w/.-]+\.m?js)\b/g))
    assert.ok(existsSync(join(root, m[1])), `${m[1]} exists`);
  for (const c of ins.filter((i) => i.op === 'COPY')) {
    const parts = c.args.split(/\s+/);
    if (parts[0].startsWith('--from=')) {
      assert.equal(parts[0], '--from=build');
      assert.equal(c.stage, last);
      continue;
    }
    for (const src of parts.slice(0, -1))
      assert.ok(existsSync(join(root, src)), `COPY source ${src} exists in the repository`);
  }
  assert.ok(
    ins.some((i) => i.stage === last && i.op === 'COPY' && i.args.includes('/app/node_modules')),
    'built node_modules copied',
  );
  const entry = ins.find((i) => i.op === 'ENTRYPOINT' && i.stage === last)!;
  assert.deepEqual(JSON.parse(entry.args), ['node', LAUNCHER]);
  assert.ok(existsSync(inRepo(LAUNCHER)));
  const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
  for (const p of ['node_modules', '.venv', '.git']) assert.ok(ignore.includes(p), `.dockerignore leaves out ${p}`);
});

test('deploy/compose.yaml: PostgreSQL, SeaweedFS, tracker, N workers, serve; images, mounts and dependencies resolve', () => {
  const file = join(root, 'deploy/compose.yaml');
  const doc = parseYaml(readFileSync(file, 'utf8'), { merge: true }) as {
    services: Record<string, any>;
    volumes: Record<string, unknown>;
  };
  const s = doc.services;
  for (const name of ['postgres', 'seaweedfs', 'tracker', 'worker', 'serve']) assert.ok(s[name], `service ${name}`);
  assert.match(s.postgres.image, /^postgres:\d+/);
  assert.match(s.seaweedfs.image, /^chrislusf\/seaweedfs:[\d.]+$/);
  const setupVersion = /SEAWEED_VERSION="([\d.]+)"/.exec(readFileSync(join(root, 'scripts/setup'), 'utf8'))![1];
  assert.equal(s.seaweedfs.image.split(':')[1], setupVersion, 'the SeaweedFS version scripts/setup pins');
  assert.ok(s.worker.deploy.replicas >= 2, 'several workers');
  for (const [name, svc] of Object.entries(s)) {
    for (const dep of Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {}))
      assert.ok(s[dep], `${name} depends on ${dep}`);
    for (const v of svc.volumes ?? []) {
      const [src] = String(v).split(':');
      if (src.startsWith('.'))
        assert.ok(existsSync(resolve(root, 'deploy', src)), `${name} mounts ${src}, which exists`);
      else assert.ok(src in doc.volumes, `${name} mounts the named volume ${src}`);
    }
    for (const p of svc.ports ?? []) assert.match(String(p), /^127\.0\.0\.1:/, `${name} publishes on loopback only`);
    if (svc.image !== IMAGE) continue;
    assert.equal(resolve(root, 'deploy', svc.build.context, svc.build.dockerfile), join(root, 'Dockerfile'));
    if (svc.entrypoint) {
      assert.ok(existsSync(inRepo(svc.entrypoint[1])), `${name}'s entrypoint ${svc.entrypoint[1]} exists`);
      continue;
    }
    commands.push({ where: `compose ${name}`, argv: svc.command.map(String) });
  }
  // the credentials the services use are an identity SeaweedFS is configured with
  const ids = JSON.parse(readFileSync(join(root, 'deploy/seaweedfs-s3.json'), 'utf8')).identities as Array<{
    credentials: Array<{ accessKey: string; secretKey: string }>;
  }>;
  const env = s.tracker.environment;
  assert.ok(
    ids.some((i) =>
      i.credentials.some((c) => c.accessKey === env.AWS_ACCESS_KEY_ID && c.secretKey === env.AWS_SECRET_ACCESS_KEY),
    ),
  );
  assert.ok(s.serve.healthcheck.test.join(' ').includes('/v2/health/ready'));
  // the comment's `sweep create` and `sweep best` lines are commands too
  const text = readFileSync(file, 'utf8').replace(/\\\n#\s*/g, ' ');
  for (const m of text.matchAll(/run --rm worker (sweep (?:create|best)[^\n)]*)/g)) {
    commands.push({ where: 'compose comment', argv: m[1].replace(/"/g, '').split(/\s+/).filter(Boolean) });
  }
});

test('Kubernetes manifests: tracker Deployment + Service, workers as an Indexed Job, serve ready on /v2/health/ready', () => {
  const dir = join(root, 'deploy/k8s');
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => ({ file: f, obj: d.toJS() as any })),
    );
  for (const { file, obj } of docs) {
    assert.ok(obj.apiVersion && obj.kind && obj.metadata?.name, `${file}: apiVersion, kind, metadata.name`);
  }
  const find = (kind: string, name: string) =>
    docs.find((d) => d.obj.kind === kind && d.obj.metadata.name === name)?.obj;
  const config = find('ConfigMap', 'ocrops');
  const secret = find('Secret', 'ocrops');
  assert.ok(config && secret, 'config.example.yaml defines the ConfigMap and Secret the others read');

  const tracker = find('Deployment', 'ocrops-tracker');
  const trackerSvc = find('Service', 'ocrops-tracker');
  assert.deepEqual(tracker.spec.selector.matchLabels, tracker.spec.template.metadata.labels);
  assert.deepEqual(trackerSvc.spec.selector, tracker.spec.template.metadata.labels);
  const job = find('Job', 'ocrops-sweep-workers');
  assert.equal(job.apiVersion, 'batch/v1');
  assert.equal(job.spec.completionMode, 'Indexed');
  assert.ok(job.spec.parallelism >= 2 && job.spec.completions >= job.spec.parallelism);
  assert.ok(['OnFailure', 'Never'].includes(job.spec.template.spec.restartPolicy));
  const serve = find('Deployment', 'ocrops-serve');
  const serveC = serve.spec.template.spec.containers[0];
  assert.equal(serveC.readinessProbe.httpGet.path, '/v2/health/ready');
  assert.ok(serveC.ports.some((p: any) => p.name === serveC.readinessProbe.httpGet.port));
  assert.deepEqual(find('Service', 'ocrops-serve').spec.selector, serve.spec.template.metadata.labels);

  for (const { file, obj } of docs.filter((d) => ['Deployment', 'Job'].includes(d.obj.kind))) {
    const pod = obj.spec.template.spec;
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      const where = `${file} ${obj.metadata.name}/${c.name}`;
      assert.equal(c.image, IMAGE, `${where}: the image deploy/compose.yaml builds`);
      assert.deepEqual(c.command, ['node', LAUNCHER], `${where}: the ocrops launcher`);
      const env = new Map<string, any>((c.env ?? []).map((e: any) => [e.name, e]));
      for (const a of c.args)
        for (const m of String(a).matchAll(/\$\(([A-Z_]+)\)/g))
          assert.ok(env.has(m[1]), `${where}: $(${m[1]}) is defined`);
      for (const e of env.values()) {
        const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
        if (!ref) continue;
        const src = e.valueFrom.configMapKeyRef ? config.data : secret.stringData;
        assert.ok(
          ref.name === 'ocrops' && ref.key in src,
          `${where}: ${e.name} reads key ${ref.key}, which config.example.yaml has`,
        );
      }
      for (const m of c.volumeMounts ?? [])
        assert.ok(
          pod.volumes.some((v: any) => v.name === m.name),
          `${where}: volume ${m.name}`,
        );
      commands.push({ where, argv: c.args.map(String) });
    }
  }
});

test('every ocrops command the deployment runs parses with the real CLI', { timeout: 1_500_000 }, async (t) => {
  assert.ok(commands.length >= 8, `commands collected from the files above (${commands.length})`);
  const unique = new Map<string, { where: string; argv: string[] }>();
  for (const c of commands)
    unique.set(c.argv.map(substitute).join(' '), { where: c.where, argv: c.argv.map(substitute) });
  const seen = new Set<string>();
  // one at a time: each loads TensorFlow, and several at once on a loaded 2-core machine only time out together
  for (const { where, argv } of unique.values()) {
    const [group] = argv;
    if (!groups[group]) {
      // `ocrops serve` (the model server) comes from its own package; without it here this line cannot be checked
      assert.equal(group, 'serve', `${where}: unknown command group '${group}'`);
      t.diagnostic(`${where}: 'ocrops serve' is not in this checkout; its command line was not checked`);
      continue;
    }
    seen.add(`${argv[0]} ${argv[1]}`);
    const r = await cliHelp(argv);
    assert.equal(r.code, 0, `${where}: ocrops ${argv.join(' ')} --help\n${r.out}`);
    assert.match(r.out, new RegExp(`Usage: ocrops ${argv[0]} ${argv[1]}\\b`), where);
  }
  for (const needed of ['tracker serve', 'sweep worker', 'sweep create', 'sweep best'])
    assert.ok(seen.has(needed), `${needed} is used`);
});
