// GET /api/ocrops/runs on a real server answers the table of runs-query cases like the shared query module does on
// the same rows in the dashboard: runs logged through the Comet REST routes, then filtered and sorted by the server,
// and the server's unfiltered rows filtered and sorted in-process by the module the dashboard bundles.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { filterRuns, sortRuns, type RunRow, type RunsReply } from '../api/index.js';
import { startServer, type TrackerServer } from '../index.js';
import { raw, tempDir } from '../../test-fixtures/helpers.js';
import { CASE_RUNS, QUERY_CASES } from '../../test-fixtures/runs-query-cases.js';

const V2 = '/api/rest/v2';

describe('runs query: server route and shared module agree', () => {
  const tmp = tempDir();
  let server: TrackerServer;
  const post = async (path: string, body: unknown) => {
    const r = await raw(server.url, 'POST', `${V2}${path}`, { key: server.defaultKey, body });
    assert.equal(r.status, 200, `${path}: ${r.text}`);
    return r.json as Record<string, unknown>;
  };
  const runs = async (q: Record<string, string>): Promise<{ status: number; reply: RunsReply; text: string }> => {
    const qs = new URLSearchParams({ projectName: 'query-cases', ...q }).toString();
    const r = await raw(server.url, 'GET', `/api/ocrops/runs?${qs}`, { key: server.defaultKey });
    return { status: r.status, reply: r.json as RunsReply, text: r.text };
  };

  before(async () => {
    server = await startServer({ port: 0, dataDir: join(tmp.dir, 'data') });
    for (const run of CASE_RUNS) {
      const { experimentKey } = await post('/write/experiment/create', {
        projectName: 'query-cases',
        experimentName: run.name,
      });
      for (const [name, value] of Object.entries(run.params))
        await post('/write/experiment/parameter', { experimentKey, parameterName: name, parameterValue: value });
      for (const [name, values] of Object.entries(run.metrics))
        await post('/clientlib/batch/logger/experiment/metric', {
          experimentKey,
          values: values.map((v, step) => ({
            metricName: name,
            metricValue: v,
            step,
            timestamp: 1_700_000_000_000 + step,
          })),
        });
      if (run.tags.length) await post('/write/experiment/tags', { experimentKey, addedTags: run.tags });
    }
  });
  after(async () => {
    await server.close();
    tmp.cleanup();
  });

  test('every case of the table: the server gives the expected runs, and so does the module on the server rows', async () => {
    const all = await runs({});
    assert.equal(all.status, 200, all.text);
    assert.equal(all.reply.total, CASE_RUNS.length);
    const names = (rs: RunRow[]) => rs.map((r) => r.experimentName);
    for (const c of QUERY_CASES) {
      const sort = c.sort ?? 'experimentName';
      const order = c.order ?? 'asc';
      const got = await runs({ filter: c.filter, sort, order });
      assert.equal(got.status, 200, `${c.filter}: ${got.text}`);
      assert.deepEqual(names(got.reply.runs), c.expect, `server: filter "${c.filter}" sort ${sort} ${order}`);
      assert.deepEqual(
        names(sortRuns(filterRuns(all.reply.runs, c.filter), sort, order)),
        c.expect,
        `module: filter "${c.filter}"`,
      );
    }
  });

  test('a filter that does not parse is a 400 naming the part', async () => {
    const got = await runs({ filter: 'params.lr or params.arch' });
    assert.equal(got.status, 400);
    assert.match(got.text, /filter: cannot parse/);
  });
});
