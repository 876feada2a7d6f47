// Request schemas of the Comet REST v2 routes, the dashboard API (/api/ocrops) and the optimizer resource: bodies are
// validated strictly (no type coercion), query strings with coercion of numbers/booleans. Unknown extra fields are
// ignored, as Comet does. Each schema's TypeScript type is `Static<typeof schema>` (see the *Body/*Query types).
import { Type, type Static } from '@sinclair/typebox';
import {
  ANY_VALUE,
  FREE_OBJECT,
  ID,
  INT_OR_NULL,
  Json,
  KEY,
  LEASE,
  METRIC_NAME,
  METRIC_VALUE,
  NAME,
  Opt,
  PID,
  StrOrNull,
  StringEnum,
  TRIAL,
  TS,
} from './schema-kit.js';

/** One metric value as Comet's metric endpoints take it. */
export const metricItem = Type.Object({
  metricName: METRIC_NAME,
  metricValue: METRIC_VALUE,
  step: Opt(INT_OR_NULL),
  epoch: Opt(INT_OR_NULL),
  timestamp: Opt(TS),
  context: Opt(StrOrNull(200)),
  id: Opt(ID),
});
export type MetricItem = Static<typeof metricItem>;

const parameterItem = Type.Object({
  parameterName: METRIC_NAME,
  parameterValue: ANY_VALUE,
  step: Opt(INT_OR_NULL),
  timestamp: Opt(TS),
});

const outputLine = Type.Object({
  output: Type.String({ maxLength: 100_000 }),
  stderr: Opt(Type.Boolean()),
  localTimestamp: Opt(TS),
  offset: Opt(INT_OR_NULL),
  id: Opt(ID),
});

export const bodies = {
  experimentCreate: Type.Object({
    workspaceName: Opt(NAME),
    projectName: Opt(NAME),
    experimentName: Opt(StrOrNull(500)),
    experimentKey: Opt(KEY),
  }),
  projectCreate: Type.Object({
    workspaceName: Opt(NAME),
    projectName: NAME,
    projectDescription: Opt(StrOrNull(5000)),
    isPublic: Opt(Type.Boolean()),
  }),
  metric: Type.Composite([Type.Object({ experimentKey: KEY }), metricItem]),
  metricBatch: Type.Object({ experimentKey: KEY, values: Type.Array(metricItem, { maxItems: 20_000 }) }),
  parameter: Type.Object({
    experimentKey: KEY,
    parameterName: METRIC_NAME,
    parameterValue: ANY_VALUE,
    step: Opt(INT_OR_NULL),
    timestamp: Opt(TS),
    context: Opt(StrOrNull(200)),
  }),
  parameterBatch: Type.Object({ experimentKey: KEY, values: Type.Array(parameterItem, { maxItems: 10_000 }) }),
  logOther: Type.Object({ experimentKey: KEY, key: METRIC_NAME, value: ANY_VALUE, timestamp: Opt(TS) }),
  tags: Type.Object({
    experimentKey: KEY,
    addedTags: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 1000 }),
  }),
  // the comet_ml SDK sends the html timestamp in microseconds
  html: Type.Object({
    experimentKey: KEY,
    html: Type.String({ maxLength: 5_000_000 }),
    override: Opt(Type.Boolean()),
    timestamp: Opt(Json<number | null>({ type: ['number', 'null'], minimum: 0, maximum: 1e17 })),
    id: Opt(ID),
  }),
  output: Type.Object({
    experimentKey: KEY,
    runContext: Opt(StrOrNull(200)),
    outputLines: Type.Array(outputLine, { maxItems: 50_000 }),
  }),
  gitMetadata: Type.Object({
    experimentKey: KEY,
    user: Opt(StrOrNull(500)),
    root: Opt(StrOrNull(2000)),
    branch: Opt(StrOrNull(500)),
    parent: Opt(StrOrNull(200)),
    origin: Opt(StrOrNull(2000)),
  }),
  /** Any fields besides the key (merged into the stored system details). */
  systemDetails: Type.Object({ experimentKey: KEY }, { maxProperties: 200 }),
  startEnd: Type.Object({ experimentKey: KEY, startTimeMillis: Opt(TS), endTimeMillis: Opt(TS) }),
  updateStatus: Type.Object({
    experimentKey: KEY,
    isAlive: Opt(Type.Boolean()),
    error: Opt(StrOrNull(100_000)),
    hasCrashed: Opt(Type.Boolean()),
  }),
  optimizerCreate: Type.Object({ config: FREE_OBJECT, workspaceName: Opt(NAME), projectName: Opt(NAME) }),
  optimizerUpdate: Type.Object({
    id: KEY,
    pid: PID,
    trial: Opt(TRIAL),
    status: StringEnum(['running', 'completed', 'failed', 'pruned']),
    score: Opt(Json<number | null>({ type: ['number', 'null'] })),
    epoch: Opt(INT_OR_NULL),
    experimentKey: Opt(Json<string | null>({ type: ['string', 'null'], pattern: '^[0-9a-f]{32}$' })),
    lease: Opt(LEASE),
  }),
  optimizerHeartbeat: Type.Object({ id: KEY, pid: PID, trial: TRIAL, lease: LEASE }),
  optimizerRelease: Type.Object({ id: KEY, pid: PID, trial: Opt(TRIAL) }),
};

const X_AXIS = StringEnum(['step', 'epoch', 'timestamp']);

export const queries = {
  experimentKey: Type.Object({ experimentKey: KEY }),
  workspace: Type.Object({ workspaceName: Opt(NAME) }),
  experiments: Type.Object({ workspaceName: Opt(NAME), projectName: Opt(NAME), projectId: Opt(KEY) }),
  getMetric: Type.Object({ experimentKey: KEY, metricName: METRIC_NAME }),
  assetList: Type.Object({ experimentKey: KEY, type: Opt(Type.String({ maxLength: 100 })) }),
  getAsset: Type.Object({ experimentKey: KEY, assetId: KEY }),
  upload: Type.Object({
    experimentKey: KEY,
    fileName: Opt(Type.String({ minLength: 1, maxLength: 1000 })),
    type: Opt(Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$' })),
    step: Opt(INT_OR_NULL),
    epoch: Opt(INT_OR_NULL),
    context: Opt(Type.String({ maxLength: 200 })),
    overwrite: Opt(Type.Boolean()),
    groupingName: Opt(Type.String({ maxLength: 500 })),
    extension: Opt(Type.String({ maxLength: 50 })),
    id: Opt(ID),
  }),
  optimizerId: Type.Object({ id: KEY }),
  optimizerNext: Type.Object({
    id: KEY,
    leaseSeconds: Opt(Type.Integer({ minimum: 1, maximum: 86_400, description: 'heartbeat lease length' })),
    worker: Opt(Type.String({ minLength: 1, maxLength: 200 })),
  }),
  optimizerList: Type.Object({ workspaceName: Opt(NAME), projectName: Opt(NAME) }),
  runs: Type.Object({
    workspaceName: Opt(NAME),
    projectName: Opt(NAME),
    sort: Opt(Type.String({ maxLength: 600 })),
    order: Opt(StringEnum(['asc', 'desc'])),
    filter: Opt(Type.String({ maxLength: 4000 })),
    limit: Opt(Type.Integer({ minimum: 1, maximum: 100_000 })),
    offset: Opt(Type.Integer({ minimum: 0 })),
  }),
  series: Type.Object({
    experimentKey: KEY,
    metricName: Opt(
      Type.String({
        minLength: 1,
        maxLength: 500,
        description: 'one series; the reply is `{metricName, total, downsampled, points}`',
      }),
    ),
    metricNames: Opt(
      Type.String({
        minLength: 1,
        maxLength: 20_000,
        description:
          'comma-separated series names (at most 100); the reply is `{series: [{metricName, total, downsampled, points}]}` in this order',
      }),
    ),
    points: Opt(Type.Integer({ minimum: 2, maximum: 100_000 })),
    x: Opt(X_AXIS),
    from: Opt(Type.Number()),
    to: Opt(Type.Number()),
  }),
  events: Type.Object({ workspaceName: Opt(NAME), projectName: Opt(NAME) }),
  sweep: Type.Object({ id: KEY }),
};

export type RunsQuery = Static<typeof queries.runs>;
export type SeriesQuery = Static<typeof queries.series>;
export type OptimizerUpdateBody = Static<typeof bodies.optimizerUpdate>;
export type OptimizerHeartbeatBody = Static<typeof bodies.optimizerHeartbeat>;
export type OptimizerReleaseBody = Static<typeof bodies.optimizerRelease>;
