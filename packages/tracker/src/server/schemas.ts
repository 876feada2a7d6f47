// JSON schemas of the tracker's routes (request bodies and query strings). Bodies are validated strictly (no type
// coercion), query strings with coercion of numbers/booleans. Unknown extra fields are ignored, as Comet does.

const KEY = { type: 'string', pattern: '^[0-9a-f]{32}$', description: '32 lowercase hex characters' } as const;
const NAME = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f/\\\\]+$' } as const;
const STR = (max = 10_000) => ({ type: ['string', 'null'], maxLength: max }) as const;
const INT_OR_NULL = { type: ['integer', 'null'], minimum: -9007199254740991, maximum: 9007199254740991 } as const;
const TS = { type: ['number', 'null'], minimum: 0, maximum: 1e14 } as const;
const ID = { type: 'string', minLength: 1, maxLength: 100 } as const;
const METRIC_NAME = { type: 'string', minLength: 1, maxLength: 500 } as const;
const METRIC_VALUE = { type: ['number', 'string', 'null'], maxLength: 1000 } as const;

const LEASE = { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'the lease from optimizer/next' } as const;

const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, required });

export const metricItem = obj(
  { metricName: METRIC_NAME, metricValue: METRIC_VALUE, step: INT_OR_NULL, epoch: INT_OR_NULL, timestamp: TS, context: STR(200), id: ID },
  ['metricName', 'metricValue'],
);

export const bodies = {
  experimentCreate: obj({ workspaceName: NAME, projectName: NAME, experimentName: STR(500), experimentKey: KEY }),
  projectCreate: obj(
    { workspaceName: NAME, projectName: NAME, projectDescription: STR(5000), isPublic: { type: 'boolean' } },
    ['projectName'],
  ),
  metric: obj({ experimentKey: KEY, ...metricItem.properties }, ['experimentKey', 'metricName', 'metricValue']),
  metricBatch: obj({ experimentKey: KEY, values: { type: 'array', maxItems: 20_000, items: metricItem } }, ['experimentKey', 'values']),
  parameter: obj(
    { experimentKey: KEY, parameterName: METRIC_NAME, parameterValue: {}, step: INT_OR_NULL, timestamp: TS, context: STR(200) },
    ['experimentKey', 'parameterName', 'parameterValue'],
  ),
  parameterBatch: obj(
    {
      experimentKey: KEY,
      values: {
        type: 'array',
        maxItems: 10_000,
        items: obj({ parameterName: METRIC_NAME, parameterValue: {}, step: INT_OR_NULL, timestamp: TS }, ['parameterName', 'parameterValue']),
      },
    },
    ['experimentKey', 'values'],
  ),
  logOther: obj({ experimentKey: KEY, key: METRIC_NAME, value: {}, timestamp: TS }, ['experimentKey', 'key', 'value']),
  tags: obj({ experimentKey: KEY, addedTags: { type: 'array', maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 200 } } }, [
    'experimentKey',
    'addedTags',
  ]),
  // the comet_ml SDK sends the html timestamp in microseconds
  html: obj({ experimentKey: KEY, html: { type: 'string', maxLength: 5_000_000 }, override: { type: 'boolean' }, timestamp: { ...TS, maximum: 1e17 }, id: ID }, [
    'experimentKey',
    'html',
  ]),
  output: obj(
    {
      experimentKey: KEY,
      runContext: STR(200),
      outputLines: {
        type: 'array',
        maxItems: 50_000,
        items: obj(
          { output: { type: 'string', maxLength: 100_000 }, stderr: { type: 'boolean' }, localTimestamp: TS, offset: INT_OR_NULL, id: ID },
          ['output'],
        ),
      },
    },
    ['experimentKey', 'outputLines'],
  ),
  gitMetadata: obj(
    { experimentKey: KEY, user: STR(500), root: STR(2000), branch: STR(500), parent: STR(200), origin: STR(2000) },
    ['experimentKey'],
  ),
  systemDetails: { ...obj({ experimentKey: KEY }, ['experimentKey']), maxProperties: 200 },
  startEnd: obj({ experimentKey: KEY, startTimeMillis: TS, endTimeMillis: TS }, ['experimentKey']),
  updateStatus: obj({ experimentKey: KEY, isAlive: { type: 'boolean' }, error: STR(100_000), hasCrashed: { type: 'boolean' } }, [
    'experimentKey',
  ]),
  optimizerCreate: obj({ config: { type: 'object' }, workspaceName: NAME, projectName: NAME }, ['config']),
  optimizerUpdate: obj(
    {
      id: KEY,
      pid: { type: 'string', minLength: 1, maxLength: 64 },
      trial: { type: 'integer', minimum: 1 },
      status: { type: 'string', enum: ['running', 'completed', 'failed', 'pruned'] },
      score: { type: ['number', 'null'] },
      epoch: INT_OR_NULL,
      experimentKey: { type: ['string', 'null'], pattern: '^[0-9a-f]{32}$' },
      lease: LEASE,
    },
    ['id', 'pid', 'status'],
  ),
  optimizerHeartbeat: obj(
    { id: KEY, pid: { type: 'string', minLength: 1, maxLength: 64 }, trial: { type: 'integer', minimum: 1 }, lease: LEASE },
    ['id', 'pid', 'trial', 'lease'],
  ),
  optimizerRelease: obj({ id: KEY, pid: { type: 'string', minLength: 1, maxLength: 64 }, trial: { type: 'integer', minimum: 1 } }, [
    'id',
    'pid',
  ]),
};

export const queries = {
  experimentKey: obj({ experimentKey: KEY }, ['experimentKey']),
  workspace: obj({ workspaceName: NAME }),
  experiments: obj({ workspaceName: NAME, projectName: NAME, projectId: KEY }),
  getMetric: obj({ experimentKey: KEY, metricName: METRIC_NAME }, ['experimentKey', 'metricName']),
  assetList: obj({ experimentKey: KEY, type: { type: 'string', maxLength: 100 } }, ['experimentKey']),
  getAsset: obj({ experimentKey: KEY, assetId: KEY }, ['experimentKey', 'assetId']),
  upload: obj(
    {
      experimentKey: KEY,
      fileName: { type: 'string', minLength: 1, maxLength: 1000 },
      type: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$' },
      step: INT_OR_NULL,
      epoch: INT_OR_NULL,
      context: { type: 'string', maxLength: 200 },
      overwrite: { type: 'boolean' },
      groupingName: { type: 'string', maxLength: 500 },
      extension: { type: 'string', maxLength: 50 },
      id: ID,
    },
    ['experimentKey'],
  ),
  optimizerId: obj({ id: KEY }, ['id']),
  optimizerNext: obj(
    {
      id: KEY,
      leaseSeconds: { type: 'integer', minimum: 1, maximum: 86_400, description: 'heartbeat lease length' },
      worker: { type: 'string', minLength: 1, maxLength: 200 },
    },
    ['id'],
  ),
  optimizerList: obj({ workspaceName: NAME, projectName: NAME }),
  runs: obj({
    workspaceName: NAME,
    projectName: NAME,
    sort: { type: 'string', maxLength: 600 },
    order: { type: 'string', enum: ['asc', 'desc'] },
    filter: { type: 'string', maxLength: 4000 },
    limit: { type: 'integer', minimum: 1, maximum: 100_000 },
    offset: { type: 'integer', minimum: 0 },
  }),
  series: obj(
    {
      experimentKey: KEY,
      metricName: { ...METRIC_NAME, description: 'one series; the reply is `{metricName, total, downsampled, points}`' },
      metricNames: {
        type: 'string',
        minLength: 1,
        maxLength: 20_000,
        description: 'comma-separated series names (at most 100); the reply is `{series: [{metricName, total, downsampled, points}]}` in this order',
      },
      points: { type: 'integer', minimum: 2, maximum: 100_000 },
      x: { type: 'string', enum: ['step', 'epoch', 'timestamp'] },
      from: { type: 'number' },
      to: { type: 'number' },
    },
    ['experimentKey'],
  ),
  events: obj({ workspaceName: NAME, projectName: NAME }),
  sweep: obj({ id: KEY }, ['id']),
};
