// The model registry's wire contract: request schemas of Comet REST v2's registry endpoints (as the comet_ml SDK
// 3.58.8 sends them) and of ocrops' own under /api/ocrops/registry, and the registry replies clients read.
import { Type, type Static } from '@sinclair/typebox';
import { Json, Opt, StringEnum } from './schema-kit.js';

/** Status values a version may take (Comet's defaults). */
export const ALLOWED_STATUS = ['None', 'Development', 'Staging', 'QA', 'Production', 'Archived'] as const;
/** Aliases: a letter first, then letters, digits, `-`, `_` (MLflow's rule); `latest` always means the newest version. */
export const ALIAS_PATTERN = '^[A-Za-z][A-Za-z0-9_-]{0,63}$';
/** Versions: Comet's semver strings (`1.0.0`) or ocrops' plain numbers (`7`). */
export const VERSION_PATTERN = '^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$';

const RKEY = Type.String({ pattern: '^[0-9a-f]{32}$' });
const WS = Type.String({ minLength: 1, maxLength: 200 });
const MODEL_NAME = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$',
  description: 'letters, digits, `.`, `_`, `-`',
});
const VERSION = Type.String({
  pattern: VERSION_PATTERN,
  description: '`1.0.0` (Comet) or `7` (ocrops numbers versions when omitted)',
});
const ALIAS = Type.String({
  pattern: ALIAS_PATTERN,
  description: 'e.g. `champion`, `candidate`; `latest` is reserved',
});
const TEXT = (max = 5000) => Json<string | null>({ type: ['string', 'null'], maxLength: max });
const STAGES = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 50 });
const TAGS = Json<Record<string, string>>({
  type: 'object',
  maxProperties: 100,
  additionalProperties: { type: 'string', maxLength: 1000 },
  description: 'key -> value',
});
const MD5_DIR = Type.String({ pattern: '^[0-9a-f]{32}(\\.dir)?$' });
const ITEM_ID = Type.String({ minLength: 1, maxLength: 100 });
const STATUS = StringEnum(ALLOWED_STATUS);

export const registryBodies = {
  /** `POST /api/ocrops/registry/register` */
  register: Type.Object({
    workspaceName: Opt(WS),
    modelName: MODEL_NAME,
    experimentKey: RKEY,
    experimentModelName: Opt(
      Type.String({ minLength: 1, maxLength: 500, description: "the run's logged model (default: its only one)" }),
    ),
    version: Opt(VERSION),
    description: Opt(TEXT()),
    comment: Opt(TEXT()),
    status: Opt(STATUS),
    stages: Opt(STAGES),
    tags: Opt(TAGS),
    aliases: Opt(Type.Array(ALIAS, { maxItems: 20 })),
    weightsMd5: Opt(
      Type.String({
        pattern: '^[0-9a-f]{32}(\\.dir)?$',
        description: 'md5 the client computed of its weights folder; must equal what the run logged',
      }),
    ),
    dvc: Opt(Type.Object({ path: Opt(TEXT(1000)), md5: MD5_DIR, remote: Opt(TEXT(2000)) })),
    evaluation: Opt(
      Json<Record<string, number>>({
        type: 'object',
        maxProperties: 200,
        additionalProperties: { type: 'number' },
        description: 'metrics of an evaluation of these weights (name -> number)',
      }),
    ),
  }),
  /** Comet `write/registry-model` and `write/registry-model/item`. */
  cometCreate: Type.Object({
    experimentModelId: Type.String({ minLength: 1, maxLength: 1000 }),
    registryModelName: MODEL_NAME,
    version: Opt(VERSION),
    description: Opt(TEXT()),
    comment: Opt(TEXT()),
    isPublic: Opt(Type.Boolean()),
    stages: Opt(STAGES),
    workspaceName: Opt(WS),
  }),
  itemStatus: Type.Object({ status: STATUS, modelItemId: ITEM_ID }),
  itemUpdate: Type.Object({ registryModelItemId: ITEM_ID, comment: Opt(TEXT()), stages: Opt(STAGES) }),
  alias: Type.Object({ workspaceName: Opt(WS), modelName: MODEL_NAME, alias: ALIAS, version: VERSION }),
  aliasDelete: Type.Object({ workspaceName: Opt(WS), modelName: MODEL_NAME, alias: ALIAS }),
  versionUpdate: Type.Object({
    workspaceName: Opt(WS),
    modelName: MODEL_NAME,
    version: VERSION,
    description: Opt(TEXT()),
    comment: Opt(TEXT()),
    status: Opt(STATUS),
    tags: Opt(TAGS),
    removeTags: Opt(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 100 })),
  }),
};
export type RegisterBody = Static<typeof registryBodies.register>;
export type CometRegisterBody = Static<typeof registryBodies.cometCreate>;

export const registryQueries = {
  experimentKey: Type.Object({ experimentKey: RKEY }),
  workspace: Type.Object({ workspaceName: Opt(WS) }),
  model: Type.Object({ workspaceName: Opt(WS), modelName: MODEL_NAME }),
  stage: Type.Object({ modelItemId: ITEM_ID, stage: Type.String({ minLength: 1, maxLength: 100 }) }),
  download: Type.Object({
    workspaceName: Opt(WS),
    modelName: MODEL_NAME,
    version: Opt(VERSION),
    stage: Opt(Type.String({ maxLength: 100 })),
  }),
  version: Type.Object({
    workspaceName: Opt(WS),
    modelName: MODEL_NAME,
    version: Opt(VERSION),
    alias: Opt(Type.String({ pattern: ALIAS_PATTERN })),
  }),
};

// ---- replies -------------------------------------------------------------------------------------------------------

const STR_OR_NULL = Json<string | null>({ type: ['string', 'null'] });
const NUM_OR_NULL = Json<number | null>({ type: ['number', 'null'] });

/** One file of a version's weights. */
export const WeightsFile = Type.Object({
  relpath: Type.String(),
  md5: Type.String(),
  size: Type.Number(),
  /** The run's asset holding the bytes. */
  assetId: Type.String(),
});
export type WeightsFile = Static<typeof WeightsFile>;

/** What a registered version records besides its names. */
export const VersionRecord = Type.Object({
  projectName: STR_OR_NULL,
  /** The sweep the run belongs to (Comet's optimizationId), when any. */
  sweepId: STR_OR_NULL,
  weights: Type.Object({
    /** DVC 3 md5 of the weights folder (`<md5>.dir`), computed by the server from the stored bytes. */
    md5: Type.String(),
    bytes: Type.Number(),
    files: Type.Array(WeightsFile),
    /** Where the same folder lives as a DVC output, when the registering client said so. */
    dvc: Type.Union([Type.Object({ path: STR_OR_NULL, md5: Type.String(), remote: STR_OR_NULL }), Type.Null()]),
  }),
  /** `tfjs` always; `onnx` when the weights hold a `.onnx` file. */
  formats: Type.Array(Type.String()),
  /** Metrics of an evaluation of these weights (e.g. the pipeline's metrics.json), when the registering client sent them. */
  evaluation: Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()]),
  /** The run's metrics when it was registered: name -> last/min/max. */
  metrics: Type.Record(Type.String(), Type.Object({ last: NUM_OR_NULL, min: NUM_OR_NULL, max: NUM_OR_NULL })),
  lineage: Type.Object({
    gitCommit: STR_OR_NULL,
    gitDirty: Json<boolean | null>({ type: ['boolean', 'null'] }),
    configMd5: STR_OR_NULL,
    configPath: STR_OR_NULL,
    datasetMd5: STR_OR_NULL,
    datasetPath: STR_OR_NULL,
  }),
});
export type VersionRecord = Static<typeof VersionRecord>;

/** A registered version as the registry routes return it. */
export const RegistryVersion = Type.Composite([
  Type.Object({
    registryModelItemId: Type.String(),
    modelName: Type.String(),
    version: Type.String(),
    experimentKey: Type.String(),
    experimentModelName: Type.String(),
    comment: Type.String(),
    description: Type.String(),
    status: Type.String(),
    stages: Type.Array(Type.String()),
    tags: Type.Record(Type.String(), Type.String()),
    aliases: Type.Array(Type.String()),
    createdAt: Type.Number(),
    lastUpdated: Type.Number(),
    createdBy: STR_OR_NULL,
  }),
  VersionRecord,
]);
export type RegistryVersion = Static<typeof RegistryVersion>;

/** A registered model with its version count and aliases (`GET /api/ocrops/registry/models`, Comet `registry-model`). */
export const RegistryModel = Type.Object({
  registryModelId: Type.String(),
  modelName: Type.String(),
  workspaceName: Type.String(),
  description: Type.String(),
  isPublic: Type.Boolean(),
  createdAt: Type.Number(),
  lastUpdated: Type.Number(),
  userName: STR_OR_NULL,
  numberOfVersions: Type.Integer(),
  latestVersion: STR_OR_NULL,
  /** alias -> version */
  aliases: Type.Record(Type.String(), STR_OR_NULL),
});
export type RegistryModel = Static<typeof RegistryModel>;

/** One move of an alias (who and when). */
export const AliasEvent = Type.Object({
  alias: Type.String(),
  version: STR_OR_NULL,
  previousVersion: STR_OR_NULL,
  at: Type.Number(),
  by: STR_OR_NULL,
});
export type AliasEvent = Static<typeof AliasEvent>;

/** `GET /api/ocrops/registry/model`: the model, its versions and the alias history. */
export const RegistryModelDetail = Type.Object({
  model: RegistryModel,
  versions: Type.Array(RegistryVersion),
  aliasHistory: Type.Array(AliasEvent),
});
export type RegistryModelDetail = Static<typeof RegistryModelDetail>;
