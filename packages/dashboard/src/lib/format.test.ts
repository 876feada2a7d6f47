import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatDuration, formatTime, formatValue } from './format.js';

test('formatValue: compact numbers, strings as they are', () => {
  assert.equal(formatValue(0.048612345), '0.04861');
  assert.equal(formatValue(1.2346e-5), '1.235e-5');
  assert.equal(formatValue(12480), '12,480');
  assert.equal(formatValue('adam'), 'adam');
  assert.equal(formatValue(null), '');
  assert.equal(formatValue(true), 'true');
});

test('formatDuration / formatTime / formatBytes', () => {
  assert.equal(formatDuration(350), '350ms');
  assert.equal(formatDuration(12_400), '12.4s');
  assert.equal(formatDuration(185_000), '3m 05s');
  assert.equal(formatDuration(3_720_000), '1h 02m');
  assert.equal(formatDuration(undefined), '');
  assert.equal(formatTime(Date.UTC(2026, 10, 22, 16, 5)), '2026-11-22 16:05');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatBytes(12), '12 B');
});
