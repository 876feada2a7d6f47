import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AssetInfo } from '@ocrops/tracker/api';
import {
  cellColor,
  confusionAssets,
  confusionView,
  mistakeImages,
  orderMetricNames,
  parseConfusionMatrix,
  type ConfusionMatrixAsset,
} from './confusion.js';

/** What comet_ml's ConfusionMatrix.to_json() writes (log_confusion_matrix without images). */
const COMET_JSON = {
  version: 1,
  title: 'Confusion Matrix, Epoch #3',
  labels: ['ADONIS', 'MONARCH', 'VICEROY'],
  matrix: [
    [8, 1, 1],
    [0, 9, 3],
    [0, 0, 0],
  ],
  rowLabel: 'Actual Category',
  columnLabel: 'Predicted Category',
  maxSamplesPerCell: 25,
  sampleMatrix: null,
  type: null,
};

test('parseConfusionMatrix: the Comet SDK JSON is read as it is; malformed files give a reason', () => {
  const cm = parseConfusionMatrix(COMET_JSON) as ConfusionMatrixAsset;
  assert.deepEqual(cm.labels, COMET_JSON.labels);
  assert.equal(cm.title, 'Confusion Matrix, Epoch #3');
  assert.equal(cm.rowLabel, 'Actual Category');
  assert.deepEqual(parseConfusionMatrix([1, 2]), { error: 'not a JSON object' });
  assert.deepEqual(parseConfusionMatrix({ labels: ['a'] }), { error: "no 'matrix' (a list of rows)" });
  assert.deepEqual(parseConfusionMatrix({ labels: ['a', 'b'], matrix: [[1, 0]] }), {
    error: '2 labels for a matrix of 1 rows',
  });
  assert.deepEqual(parseConfusionMatrix({ labels: ['a', 'b'], matrix: [[1, 0], [2]] }), {
    error: 'row 1 (b) does not have 2 cells',
  });
  assert.deepEqual(
    parseConfusionMatrix({
      labels: ['a', 'b'],
      matrix: [
        [1, 0],
        [2, -1],
      ],
    }),
    { error: 'row 1 (b) holds a value that is not a count' },
  );
  // no labels: the class indices name the rows
  assert.deepEqual(
    (
      parseConfusionMatrix({
        matrix: [
          [1, 0],
          [0, 1],
        ],
      }) as ConfusionMatrixAsset
    ).labels,
    ['0', '1'],
  );
});

test('confusionView: row shares, recall, accuracy, top confusions, order by recall, empty rows', () => {
  const v = confusionView(parseConfusionMatrix(COMET_JSON) as ConfusionMatrixAsset);
  assert.equal(v.total, 22);
  assert.equal(v.accuracy, 17 / 22);
  assert.deepEqual(
    v.rows.map((r) => [r.label, r.total, r.correct, r.recall]),
    [
      ['ADONIS', 10, 8, 0.8],
      ['MONARCH', 12, 9, 0.75],
      ['VICEROY', 0, 0, undefined],
    ],
  );
  assert.deepEqual(
    v.rows[1].cells.map((c) => c.share),
    [0, 0.75, 0.25],
  );
  assert.equal(v.rows[1].cells[2].intensity, 0.5);
  assert.ok(v.rows[0].cells[0].diagonal && !v.rows[0].cells[1].diagonal);
  assert.deepEqual(v.topConfusions, [
    { actual: 'MONARCH', predicted: 'VICEROY', count: 3 },
    { actual: 'ADONIS', predicted: 'MONARCH', count: 1 },
    { actual: 'ADONIS', predicted: 'VICEROY', count: 1 },
  ]);
  const byRecall = confusionView(parseConfusionMatrix(COMET_JSON) as ConfusionMatrixAsset, 'recall');
  assert.deepEqual(
    byRecall.rows.map((r) => r.label),
    ['MONARCH', 'ADONIS', 'VICEROY'],
  );
  assert.deepEqual(byRecall.columns, COMET_JSON.labels, 'columns keep the logged order');
  assert.equal(
    confusionView({
      ...COMET_JSON,
      matrix: [
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
    }).accuracy,
    undefined,
  );
});

test('confusionView: 75 classes stay one table (every row and column)', () => {
  const n = 75;
  const labels = Array.from({ length: n }, (_, i) => `SPECIES ${i}`);
  const matrix = labels.map((_, i) => labels.map((__, j) => (i === j ? 7 : (i + j) % 11 === 0 ? 1 : 0)));
  const v = confusionView(parseConfusionMatrix({ labels, matrix }) as ConfusionMatrixAsset);
  assert.equal(v.rows.length, n);
  assert.ok(v.rows.every((r) => r.cells.length === n));
  assert.equal(v.topConfusions.length, 10);
});

test('cellColor: zero is transparent, the diagonal green, confusions red, darker with intensity', () => {
  assert.equal(cellColor({ count: 0, intensity: 0, diagonal: false }), 'transparent');
  assert.equal(cellColor({ count: 5, intensity: 1, diagonal: true }), 'rgb(46, 160, 67)');
  assert.equal(cellColor({ count: 5, intensity: 1, diagonal: false }), 'rgb(215, 58, 73)');
  const light = cellColor({ count: 1, intensity: 0.1, diagonal: false });
  const [r, g] = light.match(/\d+/g)!.map(Number);
  assert.ok(r > 215 && g > 58, light);
});

test('confusion-matrix and mistakes image assets are picked out, latest step first', () => {
  const assets: AssetInfo[] = [
    { assetId: 'a', fileName: 'confusion-matrix.json', type: 'confusion-matrix', step: 2 },
    { assetId: 'b', fileName: 'confusion-matrix.json', type: 'confusion-matrix', step: 9 },
    { assetId: 'c', fileName: 'mistakes-val.png', type: 'image', step: 9 },
    { assetId: 'd', fileName: 'plots/mistakes.png', type: 'image', step: 10 },
    { assetId: 'e', fileName: 'samples.png', type: 'image', step: 10 },
    { assetId: 'f', fileName: 'mistakes.json', type: 'asset', step: 10 },
  ];
  assert.deepEqual(
    confusionAssets(assets).map((a) => a.assetId),
    ['b', 'a'],
  );
  assert.deepEqual(
    mistakeImages(assets).map((a) => a.assetId),
    ['d', 'c'],
  );
});

test('orderMetricNames: the headline metrics of either task first, then the rest sorted', () => {
  assert.deepEqual(orderMetricNames(['loss', 'val_top5', 'lr', 'val_top1', 'val_loss']), [
    'val_top1',
    'val_top5',
    'val_loss',
    'loss',
    'lr',
  ]);
  assert.deepEqual(orderMetricNames(['loss', 'val_acc_by_char', 'val_cer']), ['val_acc_by_char', 'val_cer', 'loss']);
  assert.deepEqual(orderMetricNames(['b', 'a']), ['a', 'b']);
});
