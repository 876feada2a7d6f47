// The package graph is enforced: ESLint's @nx/enforce-module-boundaries rule (eslint.config.mjs, tags in each
// project.json) rejects an import of a higher layer or of the ML stack, and accepts an allowed one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@ocrops/common';

const root = repoRoot();
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

/** The project graph as Nx reports it (this also refreshes the cached graph the lint rule reads). */
function projectGraph(): Record<string, string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-graph-'));
  try {
    const r = spawnSync(bin('nx'), ['graph', `--file=${join(dir, 'graph.json')}`], {
      cwd: root,
      env,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const g = JSON.parse(readFileSync(join(dir, 'graph.json'), 'utf8')) as {
      graph: { dependencies: Record<string, Array<{ target: string }>> };
    };
    return Object.fromEntries(
      Object.entries(g.graph.dependencies).map(([k, v]) => [k, [...new Set(v.map((d) => d.target))].sort()]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lints one temporary source file placed in `pkg` that imports `specifier`; returns ESLint's JSON messages. */
function lintImport(pkg: string, specifier: string): Array<{ ruleId: string | null; message: string }> {
  const file = join(root, 'packages', pkg, 'src', `zz-layer-probe-${process.pid}.ts`);
  writeFileSync(file, `import * as probe from '${specifier}';\nexport const used = probe;\n`);
  try {
    const r = spawnSync(bin('eslint'), ['--format', 'json', file], { cwd: root, env, encoding: 'utf8' });
    const [result] = JSON.parse(r.stdout) as Array<{ messages: Array<{ ruleId: string | null; message: string }> }>;
    return result.messages;
  } finally {
    rmSync(file, { force: true });
  }
}

const boundary = (msgs: Array<{ ruleId: string | null; message: string }>) =>
  msgs.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);

test('the package graph has the documented layers', () => {
  const g = projectGraph();
  assert.deepEqual(g.common, []);
  assert.deepEqual(g.search, ['common']);
  assert.deepEqual(g.services, ['common', 'versioning']);
  for (const light of ['tracker', 'services', 'search', 'dashboard']) {
    assert.ok(
      !g[light].some((d) => ['data', 'model', 'trainer', 'sweep', 'serve'].includes(d)),
      `${light} -> ${g[light].join(', ')}`,
    );
  }
  assert.ok(g.sweep.includes('search') && g.sweep.includes('trainer'));
});

test('importing a higher layer or the ML stack fails lint; an allowed import passes', () => {
  // search (pure maths) may use common only
  const up = boundary(lintImport('search', '@ocrops/tracker'));
  assert.equal(up.length, 1, 'search -> tracker is rejected');
  // the tracker must not load the trainer (and with it TensorFlow)
  const ml = boundary(lintImport('tracker', '@ocrops/trainer'));
  assert.ok(ml.length >= 1, 'tracker -> trainer is rejected');
  assert.match(ml.join('\n'), /stack:light|layer:platform|[Cc]ircular/);
  // the trainer must not import the sweep runner above it
  assert.ok(boundary(lintImport('trainer', '@ocrops/sweep')).length >= 1, 'trainer -> sweep is rejected');
  // allowed: sweep -> search, tracker -> search
  assert.deepEqual(boundary(lintImport('sweep', '@ocrops/search')), []);
  assert.deepEqual(boundary(lintImport('tracker', '@ocrops/search')), []);
});
