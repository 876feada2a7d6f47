/**
 * Reading a request's inputs on a model slot: text lines through the batcher and a CTC decoder (the contract's
 * decoding unless the request asks for a beam width: greedy, or prefix beam search loaded on first use, with the
 * contract's language model if it names one), images through the batcher to their top-k classes.
 */
import type { CharNgramLm, ModelContract } from '@ocrops/model/contract';
import { OcropsError } from '@ocrops/common';
import type { BatchItem, ItemOutput } from './batcher.js';
import { classifierContract, probabilitiesOf, topClasses, type TopClass } from './classify.js';
import { charConfidencesOf, greedyLine, type LineText } from './decode.js';
import type { ServeMetrics } from './metrics.js';
import type { ModelSlot } from './slots.js';

type BeamDecoder = (out: ItemOutput, width: number, contract: ModelContract, lm?: CharNgramLm) => Promise<LineText>;

/** CTC prefix beam search of one line's frames, made once TensorFlow.js and @ocrops/model have been loaded. */
let beamDecoder: BeamDecoder | undefined;

/** Loads TensorFlow.js and the beam search of @ocrops/model (only a request asking for a beam pays for them). */
async function loadBeamDecoder(): Promise<BeamDecoder> {
  const [tf, { beamSearchDecode, fusionOf }] = await Promise.all([import('@tensorflow/tfjs'), import('@ocrops/model')]);
  return async (o, width, contract, lm) => {
    const frames = o.data.subarray(o.offset, o.offset + o.frames * o.classes);
    const logits = tf.tensor3d(frames, [1, o.frames, o.classes]);
    try {
      // runtime.lm is read only for a contract whose decoding is a beam search with a language model
      const fusion = lm ? fusionOf(contract.decoding, lm) : undefined;
      const r = beamSearchDecode(logits, { beamWidth: width, blank: contract.blank, fusion });
      const chars = charConfidencesOf(r.ids[0], o, contract);
      return { text: chars.map((c) => c.char).join(''), confidence: r.confidence[0], chars };
    } finally {
      logits.dispose();
    }
  };
}

/**
 * The text of one line's output: prefix beam search of width `beam` (1: greedy), by default the contract's decoding;
 * a beam search fuses the language model `lm` (the contract's, read beside the model) when there is one.
 */
async function decodeLine(
  out: ItemOutput,
  beam: number | undefined,
  contract: ModelContract,
  lm: CharNgramLm | undefined,
): Promise<LineText> {
  const width = beam ?? (contract.decoding.method === 'beam' ? contract.decoding.beamWidth : 1);
  if (width <= 1) return greedyLine(out, contract);
  beamDecoder ??= await loadBeamDecoder();
  return beamDecoder(out, width, contract, lm);
}

/** Reads lines through the slot's batcher; resolves per line with its text and the ms since `started`. */
export async function readLines(
  slot: ModelSlot,
  metrics: ServeMetrics,
  lines: BatchItem[],
  beam: number | undefined,
  started: number,
): Promise<Array<LineText & { ms: number }>> {
  const contract = slot.runtime.contract;
  if (contract.task === 'classify')
    throw new OcropsError('OCROPS_SERVE_RUNTIME', 'readLines reads text lines; this server serves an image classifier');
  metrics.lines.inc(lines.length);
  return Promise.all(
    lines.map(async (line) => {
      const out = await slot.batcher.submit(line);
      const text = await decodeLine(out, beam, contract, slot.runtime.lm);
      return { ...text, ms: Number((performance.now() - started).toFixed(2)) };
    }),
  );
}

/** Classifies images through the slot's batcher; resolves per image with its top-k classes and the ms since `started`. */
export async function classifyImages(
  slot: ModelSlot,
  metrics: ServeMetrics,
  items: BatchItem[],
  topK: number,
  started: number,
): Promise<Array<{ top: TopClass[]; ms: number }>> {
  const c = classifierContract(slot.runtime);
  metrics.lines.inc(items.length);
  return Promise.all(
    items.map(async (item) => {
      const out = await slot.batcher.submit(item);
      const top = topClasses(probabilitiesOf(out, c.outputs[0].kind), c.classes, topK);
      return { top, ms: Number((performance.now() - started).toFixed(2)) };
    }),
  );
}
