// JSON request bodies for every route: parsed, then checked for nesting depth and for strings that are not
// well-formed UTF-16 (a lone surrogate would be rewritten to U+FFFD when stored); both get a 400 naming the place.
import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-error.js';

/** Deepest nesting of arrays/objects a JSON body may have. */
export const MAX_JSON_DEPTH = 32;

/** Throws a 400 naming the first place that is nested too deep or holds an ill-formed string (iterative: no recursion). */
export function checkJsonValue(value: unknown, maxDepth = MAX_JSON_DEPTH): void {
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: '', depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (!isWellFormed(v))
        throw new HttpError(400, `body${path || '/'}: string contains a lone surrogate (not valid Unicode)`);
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= maxDepth) throw new HttpError(400, `body${path}: JSON nested deeper than ${maxDepth} levels`);
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, path: `${path}/${i}`, depth: depth + 1 }));
    else
      for (const [k, x] of Object.entries(v)) {
        if (!isWellFormed(k))
          throw new HttpError(400, `body${path}: a key contains a lone surrogate (not valid Unicode)`);
        stack.push({ v: x, path: `${path}/${k.slice(0, 100)}`, depth: depth + 1 });
      }
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** Replaces fastify's JSON parser with one that also runs checkJsonValue (prototype-poisoning keys are rejected too). */
export function installJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text === '') return done(null, undefined);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return done(new HttpError(400, `body is not valid JSON: ${(err as Error).message}`), undefined);
    }
    try {
      checkJsonValue(value);
      if (/"(?:__proto__|constructor)"\s*:/.test(text)) rejectPoisoning(value);
    } catch (err) {
      return done(err as Error, undefined);
    }
    done(null, value);
  });
}

function rejectPoisoning(value: unknown): void {
  const stack = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Object.prototype.hasOwnProperty.call(v, '__proto__'))
      throw new HttpError(400, 'body: "__proto__" keys are not allowed');
    const ctor: unknown = Object.prototype.hasOwnProperty.call(v, 'constructor')
      ? (v as { constructor: unknown }).constructor
      : undefined;
    if (typeof ctor === 'object' && ctor !== null && 'prototype' in ctor)
      throw new HttpError(400, 'body: "constructor.prototype" keys are not allowed');
    stack.push(...Object.values(v));
  }
}
