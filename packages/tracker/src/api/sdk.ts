// Request schemas of the routes that serve the official comet_ml Python SDK (3.58.x): its experiment handshake,
// status reports, batch messages, uploads and queries, and its Optimizer client. Field names are the SDK's.
import { Type, type Static } from '@sinclair/typebox';
import { ANY_VALUE, FREE_OBJECT, Json, KEY, Opt, PID, StrOrNull, TRIAL, TS } from './schema-kit.js';

/** The SDK sends integers or null without a range check of its own. */
const SDK_INT_OR_NULL = Json<number | null>({ type: ['integer', 'null'] });
const SDK_STR = (max = 1000) => StrOrNull(max);

export const sdkBodies = {
  addRun: Type.Object({
    apiKey: Opt(SDK_STR(200)),
    experimentKey: KEY,
    projectName: Opt(SDK_STR(200)),
    teamName: Opt(SDK_STR(200)),
    offline: Opt(Type.Boolean()),
    getOrCreateEnabled: Opt(Type.Boolean()),
    local_timestamp: Opt(TS),
    libVersion: Opt(SDK_STR(100)),
  }),
  getRun: Type.Object({
    apiKey: Opt(SDK_STR(200)),
    previousExperiment: KEY,
    local_timestamp: Opt(TS),
    libVersion: Opt(SDK_STR(100)),
  }),
  statusReport: Type.Object({
    apiKey: Opt(SDK_STR(200)),
    runId: Opt(SDK_STR(100)),
    experimentKey: KEY,
    projectId: Opt(SDK_STR(100)),
    is_alive: Opt(Type.Boolean()),
    local_timestamp: Opt(TS),
    offline: Opt(Type.Boolean()),
  }),
  offlineMetadata: Type.Object({
    apiKey: Opt(SDK_STR(200)),
    runId: Opt(SDK_STR(100)),
    experimentKey: KEY,
    startTimestamp: Opt(TS),
    endTimestamp: Opt(TS),
  }),
  metricBatch: Type.Object({
    experimentKey: KEY,
    values: Type.Array(
      Type.Object({
        metricName: Type.String({ minLength: 1, maxLength: 500 }),
        metricValue: Json<number | string | boolean | null>({ type: ['number', 'string', 'null', 'boolean'] }),
        step: Opt(SDK_INT_OR_NULL),
        epoch: Opt(SDK_INT_OR_NULL),
        timestamp: Opt(TS),
        context: Opt(SDK_STR(200)),
      }),
      { maxItems: 20_000 },
    ),
  }),
  parameterBatch: Type.Object({
    experimentKey: KEY,
    values: Type.Array(
      Type.Object({
        parameterName: Type.String({ minLength: 1, maxLength: 500 }),
        parameterValue: ANY_VALUE,
        step: Opt(SDK_INT_OR_NULL),
        timestamp: Opt(TS),
        source: Opt(SDK_STR(100)),
        context: Opt(SDK_STR(200)),
      }),
      { maxItems: 10_000 },
    ),
  }),
  addTags: Type.Object({
    apiKey: Opt(SDK_STR(200)),
    experimentKey: KEY,
    addedTags: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 1000 }),
  }),
  filePath: Type.Object({ experimentKey: KEY, path: Opt(SDK_STR(5000)), filePath: Opt(SDK_STR(5000)) }),
  graph: Type.Object({ experimentKey: KEY, graph: Type.String({ maxLength: 10_000_000 }) }),
  projectQuery: Type.Object({
    workspaceName: Opt(Type.String({ maxLength: 200 })),
    projectName: Type.String({ minLength: 1, maxLength: 200 }),
    predicates: Type.Array(FREE_OBJECT, { maxItems: 1000 }),
    archived: Opt(Type.Boolean()),
  }),
};

export const sdkQueries = {
  upload: Type.Object({
    experimentId: Opt(KEY),
    experimentKey: Opt(KEY),
    projectId: Opt(SDK_STR(100)),
    runId: Opt(SDK_STR(100)),
    assetId: Opt(Type.String({ minLength: 1, maxLength: 100 })),
    fileName: Opt(Type.String({ minLength: 1, maxLength: 1000 })),
    extension: Opt(Type.String({ maxLength: 50 })),
    type: Opt(Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$' })),
    overwrite: Opt(
      Json<boolean | string>({
        type: ['boolean', 'string'],
        maxLength: 5,
        description: 'true/false (Python sends True/False)',
      }),
    ),
    groupingName: Opt(Type.String({ maxLength: 500 })),
    context: Opt(Type.String({ maxLength: 200 })),
    step: Opt(SDK_INT_OR_NULL),
    epoch: Opt(SDK_INT_OR_NULL),
    figCounter: Opt(Type.Integer()),
    figName: Opt(Type.String({ maxLength: 1000 })),
  }),
  experimentKey: Type.Object({ experimentKey: KEY }),
  project: Type.Object({
    workspaceName: Opt(Type.String({ maxLength: 200 })),
    projectName: Type.String({ minLength: 1, maxLength: 200 }),
  }),
};

/** The comet_ml Optimizer client's calls (`/optimizer/...`). */
const OPT_KEY = Type.String({ pattern: '^[0-9a-f]{32}$' });
export const sdkOptimizer = {
  spec: Type.Object({ algorithmName: Opt(Type.String({ maxLength: 100 })) }),
  id: Type.Object({ id: OPT_KEY }),
  create: Type.Object({
    algorithm: Type.String({ maxLength: 100 }),
    name: Opt(StrOrNull(500)),
    parameters: FREE_OBJECT,
    trials: Opt(Type.Integer({ minimum: 1 })),
    spec: Opt(FREE_OBJECT),
  }),
  update: Type.Object({
    id: OPT_KEY,
    pid: PID,
    trial: Opt(TRIAL),
    status: Type.String({ maxLength: 50 }),
    score: Opt(Json<number | null>({ type: ['number', 'null'] })),
    epoch: Opt(SDK_INT_OR_NULL),
    metadata: Opt(ANY_VALUE),
  }),
};

export type SdkUploadQuery = Static<typeof sdkQueries.upload>;
export type SdkMetricItem = Static<typeof sdkBodies.metricBatch>['values'][number];
