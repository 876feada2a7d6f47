// Public surface of @ocrops/data: charset, data configs, readers, image preprocessing, augmentation,
// synthetic lines, prepare and prepared-shard streaming.
export { Charset, VIETNAMESE_CHARS, type CharsetJSON } from './charset.js';
export {
  loadDataConfig,
  parseDataConfig,
  parseSyntheticOptions,
  defaultSyntheticOptions,
  SOURCE_FORMATS,
  DataSchema,
  SourceSchema,
  ImageSchema,
  SplitSchema,
  SyntheticSchema,
  type DataConfig,
  type DataSource,
  type SourceFormat,
  type CharsetSpec,
  type ImageOptions,
  type SplitOptions,
  type SyntheticOptions,
} from './config.js';
export {
  readSource,
  filterByTextPattern,
  readLabelsJson,
  readConfigJson,
  readFolder,
  readTags,
  readLabelStudio,
  type SourceItem,
  type SkippedItem,
  type SourceRead,
} from './readers.js';
export {
  convertLabelStudio,
  parseLabelStudioExport,
  downloadS3Images,
  imageFileName,
  type LabelStudioEntry,
  type LabelStudioSkip,
  type LabelStudioFilter,
  type LabelStudioReport,
  type S3Options,
} from './labelstudio.js';
export { decodeLine, loadImageForModel, scaledWidth, toFloat, type LineImage, type LineImageOptions } from './image.js';
export {
  augmentImage,
  defaultAugmentConfig,
  parseAugmentConfig,
  AugmentSchema,
  type AugmentConfig,
} from './augment.js';
export { SyntheticLines, loadFonts, DEFAULT_FONT_FILES, type SynthLine } from './synth.js';
export { randomAddress } from './addresses.js';
export { Rng, rngFor } from './rng.js';
export { prepare, splitSizes, writeDirAtomically, type PrepareOptions, type PrepareReport } from './prepare.js';
export {
  openPrepared,
  batches,
  batchCount,
  epochLines,
  ShardWriter,
  SPLITS,
  PREPARED_FORMAT,
  type PreparedDataset,
  type PreparedSplit,
  type PreparedMeta,
  type Batch,
  type BatchOptions,
  type SplitName,
} from './shards.js';
export { repeatFactors, repeatedLength, repeatedOrder } from './repeat-factors.js';
export { distribution, formatStats, type DatasetStats, type Distribution } from './stats.js';
export { commands, writeSyntheticFolder } from './commands.js';
export {
  ClassifyDataSchema,
  ClassAugmentSchema,
  parseClassifyDataConfig,
  parseClassAugment,
  defaultClassAugment,
  dataConfigTask,
  type ClassifyDataConfig,
  type ClassifyDataYaml,
  type ClassSource,
  type ClassImageOptions,
  type ClassSplitOptions,
  type ClassAugmentConfig,
} from './classify-config.js';
export { loadAnyDataConfig, loadClassifyDataConfig, type AnyDataConfig } from './task-config.js';
export {
  readImageFolder,
  readClassCsv,
  readClassSource,
  parseCsv,
  compareCodePoints,
  type ClassItem,
  type ClassSourceRead,
} from './classify-readers.js';
export { stratifiedSplit, classSplitSizes } from './classify-split.js';
export {
  prepareClassify,
  formatClassifyStats,
  splitCsv,
  PREPARED_CLASSIFY_FORMAT,
  type PreparedClassifyMeta,
  type ClassifyStats,
  type ClassifyPrepareReport,
  type ClassifyPrepareOptions,
} from './classify-prepare.js';
export {
  augmentClassImage,
  cutMixBatch,
  drawClassAugment,
  type ClassAugmentDraw,
  type CutMixDraw,
} from './classify-augment.js';
export {
  openPreparedClassify,
  preparedTask,
  classBatches,
  classBatchCount,
  loadClassImage,
  type PreparedClassifyDataset,
  type PreparedClassifySplit,
  type ClassBatch,
  type ClassBatchOptions,
} from './classify-batches.js';
