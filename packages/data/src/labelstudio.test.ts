import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OcropsError } from '@ocrops/common';
import { convertLabelStudio, imageFileName, parseLabelStudioExport } from './labelstudio.js';
import { tempDir } from './testing/fixtures.js';

/** A task as Label Studio exports it for the reference recipe's captioning project. */
function lsTask(id: number, image: string, caption?: string) {
  const result: unknown[] = [
    { id: `c${id}`, from_name: 'chc', to_name: 'image', type: 'choices', value: { choices: ['Good'] } },
  ];
  if (caption !== undefined)
    result.push({ id: `t${id}`, from_name: 'caption', to_name: 'image', type: 'textarea', value: { text: [caption] } });
  return {
    id,
    data: { captioning: image },
    annotations: [{ id: id * 10, was_cancelled: false, result }],
    predictions: [],
  };
}

test('3-task export, one without caption: labels.json with 2 entries, the third named in the report', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const exp = join(dir, 'label_studio_data.json');
  writeFileSync(
    exp,
    JSON.stringify([
      lsTask(1, 's3://bucket/data/train/images/0000_samples.png', 'Số 289 Đinh Bộ Lĩnh, Phường 26'),
      lsTask(2, 's3://bucket/data/train/images/0001_samples.png'),
      lsTask(3, '/data/local-files/?d=data/train/images/0002_samples.png', 'Quận 1, TP Hồ Chí Minh'.normalize('NFD')),
    ]),
  );
  const r = await convertLabelStudio(exp);
  assert.equal(r.out, join(dir, 'labels.json'));
  const labels = JSON.parse(readFileSync(r.out, 'utf8'));
  assert.deepEqual(labels, {
    '0000_samples.png': 'Số 289 Đinh Bộ Lĩnh, Phường 26',
    '0002_samples.png': 'Quận 1, TP Hồ Chí Minh',
  });
  assert.equal(r.skipped.length, 1);
  assert.match(r.skipped[0].reason, /task 2 \(s3:\/\/bucket\/data\/train\/images\/0001_samples\.png\) has no caption/);
});

test('malformed export: OCROPS_JSON_SYNTAX with file and line:column; wrong shape explained', () => {
  const text = '[\n  {"id": 1, "data": {"captioning": "a.png"}},\n  {"id": 2 "data": {}}\n]';
  assert.throws(
    () => parseLabelStudioExport(text, 'export.json'),
    (e: unknown) => {
      assert.ok(e instanceof OcropsError);
      assert.equal(e.code, 'OCROPS_JSON_SYNTAX');
      assert.match(e.message, /^export\.json:3:\d+: malformed JSON/);
      return true;
    },
  );
  assert.throws(() => parseLabelStudioExport('{"tasks": []}', 'e.json'), /e\.json: expected a list of tasks/);
});

test('image names from URIs', () => {
  assert.equal(imageFileName('s3://b/data/train/images/0000_samples.png'), '0000_samples.png');
  assert.equal(imageFileName('/data/upload/3/ab12-x%20y.png'), 'ab12-x y.png');
  assert.equal(imageFileName('/data/local-files/?d=dataset/images/7.jpg'), '7.jpg');
});
