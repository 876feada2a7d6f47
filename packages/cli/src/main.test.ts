import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { groups } from './commands.js';

const bin = fileURLToPath(new URL('../bin/ocrops.mjs', import.meta.url));
const ocrops = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

test('ocrops --help lists every group; a group lists its commands', () => {
  const top = ocrops('--help');
  assert.equal(top.status, 0);
  for (const g of Object.keys(groups)) assert.match(top.stdout, new RegExp(`^  ${g} `, 'm'));
  const data = ocrops('data', '--help');
  assert.equal(data.status, 0);
  assert.match(data.stdout, /ocrops data prepare/);
});

test('unknown groups, commands and options are usage errors (exit 2) naming them', () => {
  const g = ocrops('bogus');
  assert.equal(g.status, 2);
  assert.match(g.stderr, /unknown command group 'bogus'/);
  const c = ocrops('data', 'bogus');
  assert.equal(c.status, 2);
  assert.match(c.stderr, /unknown command 'data bogus'/);
  const o = ocrops('data', 'prepare', '--no-such-flag');
  assert.equal(o.status, 2);
  assert.match(o.stderr, /no-such-flag/);
});

test('every group loads and every command has a summary', async () => {
  for (const [name, group] of Object.entries(groups)) {
    const table = await group.load();
    assert.ok(Object.keys(table).length > 0, `group ${name} has commands`);
    for (const [cmd, def] of Object.entries(table)) assert.ok(def.summary.length > 5, `${name} ${cmd} has a summary`);
  }
});
