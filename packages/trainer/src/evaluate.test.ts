import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { errorReportHtml, type ErrorReport } from './evaluate.js';
import { collectImages } from './predict.js';
import { EVENT_PREFIX, emitEvent, parseEventLine } from './events.js';

test('the error report HTML escapes transcripts and lists every worst line', () => {
  const report: ErrorReport = {
    model: 'runs/x/best',
    dataset: 'data/prepared/x',
    split: 'test',
    count: 10,
    errors: 2,
    worst: [
      {
        id: 'a.png',
        truth: '<script>alert(1)</script>',
        prediction: 'Phường "4" & co',
        confidence: 0.5,
        acc_by_char: 0.25,
      },
      { id: 'b.png', truth: 'Hà Nội', prediction: 'Ha Noi', confidence: 0.9, acc_by_char: 0.5 },
    ],
  };
  const html = errorReportHtml(report);
  assert.ok(!html.includes('<script>'));
  assert.match(html, /&#60;script&#62;/);
  assert.match(html, /Phường &#34;4&#34; &#38; co/);
  assert.equal(html.match(/<tr><td>/g)?.length, 2);
  assert.match(html, /2 of 10 lines wrong/);
});

test('collectImages expands folders to sorted image files and rejects missing or empty inputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-collect-'));
  mkdirSync(join(dir, 'imgs'));
  for (const f of ['b.PNG', 'a.jpg', 'notes.txt']) writeFileSync(join(dir, 'imgs', f), 'x');
  mkdirSync(join(dir, 'empty'));
  assert.deepEqual(collectImages([join(dir, 'imgs'), join(dir, 'imgs', 'notes.txt')]), [
    join(dir, 'imgs', 'a.jpg'),
    join(dir, 'imgs', 'b.PNG'),
    join(dir, 'imgs', 'notes.txt'),
  ]);
  assert.throws(
    () => collectImages([join(dir, 'nope.png')]),
    (e: unknown) => e instanceof OcropsError && /nope\.png does not exist/.test(e.message),
  );
  assert.throws(() => collectImages([join(dir, 'empty')]), /holds no images/);
});

test('event lines round-trip and are printed only with OCROPS_EVENTS=1', (t) => {
  const lines: string[] = [];
  t.mock.method(process.stdout, 'write', (s: string) => {
    lines.push(s);
    return true;
  });
  const ev = { type: 'epoch' as const, epoch: 3, step: 30, metrics: { val_loss: 1.5 }, experimentKey: 'k' };
  const before = process.env.OCROPS_EVENTS;
  delete process.env.OCROPS_EVENTS;
  emitEvent(ev);
  process.env.OCROPS_EVENTS = '1';
  emitEvent(ev);
  if (before === undefined) delete process.env.OCROPS_EVENTS;
  else process.env.OCROPS_EVENTS = before;
  assert.equal(lines.length, 1);
  assert.ok(lines[0].startsWith(EVENT_PREFIX) && lines[0].endsWith('\n'));
  assert.deepEqual(parseEventLine(lines[0].trimEnd()), ev);
  assert.equal(parseEventLine('epoch 3: val_loss 1.5'), undefined);
});
