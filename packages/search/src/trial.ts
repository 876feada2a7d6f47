// One trial of a sweep, as the tracker server stores it and the search algorithms read it: a TypeBox schema (the
// tracker's optimizer replies validate and document with it) and its TypeScript type of the same name. Kept apart from
// the maths (`@ocrops/search/trial`) so the wire contract and the dashboard can use it without the algorithms.
import { Type, type Static } from '@sinclair/typebox';

/** Where a trial stands. */
export const TrialStatus = Type.Unsafe<'running' | 'completed' | 'failed' | 'pruned'>({
  type: 'string',
  enum: ['running', 'completed', 'failed', 'pruned'],
});
export type TrialStatus = Static<typeof TrialStatus>;

/** One trial of a sweep. `pid` identifies a parameter set, `trial` its repetition (1-based). */
export const TrialRecord = Type.Object({
  pid: Type.String(),
  trial: Type.Integer(),
  parameters: Type.Record(Type.String(), Type.Unknown()),
  status: TrialStatus,
  /** The objective metric's value reported by the worker. */
  score: Type.Optional(Type.Number()),
  experimentKey: Type.Optional(Type.String()),
  epoch: Type.Optional(Type.Integer()),
});
export type TrialRecord = Static<typeof TrialRecord>;
