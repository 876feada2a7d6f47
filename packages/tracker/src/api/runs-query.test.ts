// The runs query language shared by the server and the dashboard: parsing, column paths, the filter rules and sorting,
// and the table of cases that GET /api/ocrops/runs must answer the same way (server/runs-query-route.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  columnValue,
  differingNames,
  filterRuns,
  matchesFilter,
  parseFilter,
  RunsQuerySyntaxError,
  sortRuns,
  type QueryRow,
} from './runs-query.js';
import type { RunRow, SeriesSummary } from './replies.js';
import { CASE_RUNS, QUERY_CASES, type CaseRun } from '../../test-fixtures/runs-query-cases.js';

function summary(values: number[]): SeriesSummary {
  return {
    last: values[values.length - 1],
    min: Math.min(...values),
    max: Math.max(...values),
    step: values.length - 1,
    epoch: null,
    count: values.length,
    lastTimestamp: 1000 + values.length,
  };
}

/** The row GET /api/ocrops/runs would give for a logged test run. */
function rowOf(r: CaseRun, i: number): RunRow {
  return {
    experimentKey: String(i).padStart(32, '0'),
    experimentName: r.name,
    projectName: 'p',
    workspaceName: 'default',
    status: 'finished',
    startTimeMillis: 100 + i,
    endTimeMillis: 200 + i,
    durationMillis: 100,
    tags: r.tags,
    optimizationId: null,
    params: r.params,
    metrics: Object.fromEntries(Object.entries(r.metrics).map(([name, values]) => [name, summary(values)])),
  };
}

const rows = CASE_RUNS.map(rowOf);
const names = (rs: RunRow[]) => rs.map((r) => r.experimentName);

describe('runs query: the table of cases', () => {
  for (const c of QUERY_CASES) {
    test(`filter "${c.filter}" sort ${c.sort ?? 'experimentName'} ${c.order ?? 'asc'}`, () => {
      const got = sortRuns(filterRuns(rows, c.filter), c.sort ?? 'experimentName', c.order ?? 'asc');
      assert.deepEqual(names(got), c.expect);
    });
  }
});

describe('runs query: parsing', () => {
  test('conditions joined by and / && with quoting; == is =', () => {
    assert.deepEqual(
      parseFilter(`metrics.val_loss.min<0.5 and params.optimizer="adam w" && tags~best AND params.x=='a b'`),
      [
        { column: 'metrics.val_loss.min', op: '<', value: '0.5' },
        { column: 'params.optimizer', op: '=', value: 'adam w' },
        { column: 'tags', op: '~', value: 'best' },
        { column: 'params.x', op: '=', value: 'a b' },
      ],
    );
    assert.deepEqual(parseFilter('  '), []);
    assert.deepEqual(parseFilter('params.s="say \\"hi\\" and go"'), [
      { column: 'params.s', op: '=', value: 'say "hi" and go' },
    ]);
  });

  test('garbage is a RunsQuerySyntaxError naming the part and the expected form', () => {
    for (const bad of ['metrics.x <', 'a=1 or b=2 extra', 'val_loss', '))((', 'params.x=1; DROP TABLE experiments']) {
      assert.throws(
        () => parseFilter(bad),
        (e: unknown) =>
          e instanceof RunsQuerySyntaxError && /cannot parse ".+" \(expected <column><op><value>/.test(e.message),
        bad,
      );
    }
  });
});

describe('runs query: columns, rules and sorting', () => {
  const run = (
    name: string,
    lossMin: number | undefined,
    params: Record<string, unknown>,
    tags: string[] = [],
  ): QueryRow => ({
    ...rowOf({ name, params: {}, metrics: {}, tags }, 0),
    params,
    metrics:
      lossMin === undefined
        ? {}
        : { 'val.loss': { last: lossMin + 1, min: lossMin, max: 9, step: 3, epoch: 1, count: 4, lastTimestamp: 5 } },
  });

  test('column paths: metric summaries (dotted names), params, others, name, row fields', () => {
    const r = { ...run('a', 0.7, { lr: '0.01' }), others: { git_dirty: false } };
    assert.equal(columnValue(r, 'metrics.val.loss.min'), 0.7);
    assert.equal(columnValue(r, 'metrics.val.loss'), 1.7);
    assert.equal(columnValue(r, 'metrics.val.loss.count'), 4);
    assert.equal(columnValue(r, 'metrics.nothing.min'), undefined);
    assert.equal(columnValue(r, 'params.lr'), '0.01');
    assert.equal(columnValue(r, 'others.git_dirty'), false);
    assert.equal(columnValue(r, 'name'), 'a');
    assert.equal(columnValue(r, 'status'), 'finished');
    assert.deepEqual(columnValue(r, 'tags'), []);
  });

  test('numbers compare numerically, numeric strings too; text compares as text; ordering operators on tags match nothing', () => {
    const runs = [
      run('a', 0.7, { lr: '0.01', n: '9' }),
      run('b', 0.2, { lr: 0.001, n: 10 }, ['best']),
      run('c', undefined, { lr: 0.1, n: 'x' }),
    ];
    const pick = (f: string) => runs.filter((r) => matchesFilter(r, parseFilter(f))).map((r) => r.experimentName);
    assert.deepEqual(pick('params.lr>=0.01'), ['a', 'c']);
    assert.deepEqual(pick('params.n<10'), ['a']);
    assert.deepEqual(pick('params.n>w'), ['c']);
    assert.deepEqual(pick('tags>a'), []);
    assert.deepEqual(pick('metrics.val.loss.min!=0.2'), ['a', 'c']);
    assert.deepEqual(pick('metrics.val.loss.min<1'), ['a', 'b']);
  });

  test('sorting: missing values last in both orders, stable, a new array', () => {
    const runs = [run('a', 0.7, {}), run('b', 0.2, {}), run('c', undefined, {}), run('d', 0.2, {})];
    assert.deepEqual(names(sortRuns(runs, 'metrics.val.loss.min', 'asc')), ['b', 'd', 'a', 'c']);
    assert.deepEqual(names(sortRuns(runs, 'metrics.val.loss.min', 'desc')), ['a', 'b', 'd', 'c']);
    assert.deepEqual(names(sortRuns(runs, 'name', 'desc')), ['d', 'c', 'b', 'a']);
    assert.notEqual(sortRuns(runs, 'name', 'asc'), runs);
  });

  test('differingNames keeps only columns whose values differ', () => {
    const runs = [run('a', 1, { inner_dim: 64, arch: 'vgg' }), run('b', 1, { inner_dim: 128, arch: 'vgg' })];
    assert.deepEqual(
      differingNames(runs, ['inner_dim', 'arch', 'missing'], (r, n) => r.params[n]),
      ['inner_dim'],
    );
  });
});
