// Building blocks of the tracker's wire schemas: TypeBox schemas that serialize to the JSON Schema the routes have
// always validated with (nullable fields stay `type: [T, 'null']`, not `anyOf`), so validation and error messages are
// unchanged while each schema also gives its TypeScript type (`Static<typeof schema>`).
import { Type, type TSchema, type TUnsafe } from '@sinclair/typebox';

/** A schema whose JSON form is `json` and whose TypeScript type is `T` (for `type: [T, 'null']` unions). */
export const Json = <T>(json: Record<string, unknown>): TUnsafe<T> => Type.Unsafe<T>(json);

/** An experiment key: 32 lowercase hex characters. */
export const Key = (description = '32 lowercase hex characters') =>
  Type.String({ pattern: '^[0-9a-f]{32}$', description });
export const KEY = Key();
/** A workspace or project name: 1-200 characters, no control characters or slashes. */
export const NAME = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f/\\\\]+$' });
/** A string or null of at most `max` characters. */
export const StrOrNull = (max = 10_000) => Json<string | null>({ type: ['string', 'null'], maxLength: max });
/** An integer or null within the safe integer range. */
export const INT_OR_NULL = Json<number | null>({
  type: ['integer', 'null'],
  minimum: -9007199254740991,
  maximum: 9007199254740991,
});
/** Epoch milliseconds or null. */
export const TS = Json<number | null>({ type: ['number', 'null'], minimum: 0, maximum: 1e14 });
export const ID = Type.String({ minLength: 1, maxLength: 100 });
export const METRIC_NAME = Type.String({ minLength: 1, maxLength: 500 });
/** A metric value: a number, a (numeric) string, or null. */
export const METRIC_VALUE = Json<number | string | null>({ type: ['number', 'string', 'null'], maxLength: 1000 });
/** Any JSON value (the schema `{}`). */
export const ANY_VALUE = Type.Unknown();
/** A JSON object whose fields the route reads itself. */
export const FREE_OBJECT = Json<Record<string, unknown>>({ type: 'object' });
/** The heartbeat lease `optimizer/next` hands out. */
export const LEASE = Key('the lease from optimizer/next');
/** A sweep's parameter-set id. */
export const PID = Type.String({ minLength: 1, maxLength: 64 });
export const TRIAL = Type.Integer({ minimum: 1 });

/** A string out of `values` (JSON `{type: 'string', enum}`). */
export const StringEnum = <const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> => Json<T[number]>({ type: 'string', enum: [...values], ...options });

export const Opt = <T extends TSchema>(schema: T) => Type.Optional(schema);
