import { readFileSync } from 'node:fs';
import { parseDocument, type Document, type LineCounter, YAMLParseError } from 'yaml';
import { OcropsError } from './errors.js';

/**
 * Reads a YAML or JSON file (JSON is YAML) and returns the parsed value. Syntax errors name the file, line and column.
 */
export function readYamlFile(path: string): unknown {
  return parseYamlText(readConfigText(path), path);
}

/** Reads a config file's text; an unreadable file is an OCROPS_FILE_UNREADABLE error naming it. */
export function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new OcropsError('OCROPS_FILE_UNREADABLE', `cannot read ${path}: ${(err as Error).message}`, {
      hint: 'check the path (relative paths are resolved from the current directory)',
      cause: err,
    });
  }
}

/** Parses YAML/JSON text; `source` names the file in errors. */
export function parseYamlText(text: string, source: string): unknown {
  return parseYamlDocument(text, source).toJS();
}

/** Parses YAML/JSON text into a document (positions through `lineCounter`); a syntax error names the file, line and column. */
export function parseYamlDocument(text: string, source: string, lineCounter?: LineCounter): Document {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    const e = doc.errors[0] as YAMLParseError;
    const pos = e.linePos?.[0];
    const where = pos ? `${source}:${pos.line}:${pos.col}` : source;
    throw new OcropsError('OCROPS_CONFIG_SYNTAX', `${where}: malformed YAML/JSON: ${e.message.split('\n')[0]}`, {
      hint: 'fix the syntax at that position',
    });
  }
  return doc;
}

/** Reads a JSON file strictly (JSON.parse), reporting the file and line:column of a syntax error. */
export function readJsonFile<T = unknown>(path: string): T {
  return parseJsonText<T>(readConfigText(path), path);
}

/** JSON.parse with the file name and line:column of a syntax error in the message. */
export function parseJsonText<T = unknown>(text: string, source: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0].replace(/, ".*$/s, '');
    const pos = jsonErrorOffset(text);
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    const col = pos - before.lastIndexOf('\n');
    throw new OcropsError('OCROPS_JSON_SYNTAX', `${source}:${line}:${col}: malformed JSON: ${msg}`, {
      hint: 'fix the JSON syntax at that position',
    });
  }
}

/** Field `key` of a parsed JSON value when it is an object (undefined otherwise): reads foreign JSON without `any`. */
export function jsonField(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** A parsed JSON value as a list: itself when it is an array, else empty. */
export function jsonList(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

/** A tiny typed reader for validated config objects: every accessor names the field path in its error. */
export class ConfigReader {
  constructor(
    private readonly obj: Record<string, unknown>,
    readonly source: string,
    readonly prefix = '',
  ) {}

  static from(value: unknown, source: string): ConfigReader {
    if (value === null || value === undefined) return new ConfigReader({}, source);
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new OcropsError('OCROPS_CONFIG_INVALID', `${source}: expected a mapping at the top level`);
    }
    return new ConfigReader(value as Record<string, unknown>, source);
  }

  private path(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  fail(key: string, what: string): never {
    throw new OcropsError('OCROPS_CONFIG_INVALID', `${this.source}: field '${this.path(key)}' ${what}`);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  raw(key: string): unknown {
    return this.obj[key];
  }

  keys(): string[] {
    return Object.keys(this.obj);
  }

  /** Rejects keys not in `allowed` (catches typos in configs). */
  only(allowed: readonly string[]): this {
    for (const k of Object.keys(this.obj)) {
      if (!allowed.includes(k)) this.fail(k, `is not a known field (known: ${allowed.join(', ')})`);
    }
    return this;
  }

  section(key: string, required = false): ConfigReader {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (required) this.fail(key, 'is required');
      return new ConfigReader({}, this.source, this.path(key));
    }
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(key, 'must be a mapping');
    return new ConfigReader(v as Record<string, unknown>, this.source, this.path(key));
  }

  string(key: string, def?: string): string {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (def === undefined) this.fail(key, 'is required (a string)');
      return def;
    }
    if (typeof v !== 'string') this.fail(key, `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  optionalString(key: string): string | undefined {
    return this.has(key) ? this.string(key) : undefined;
  }

  number(key: string, def?: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (def === undefined) this.fail(key, 'is required (a number)');
      return def;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `must be a number, got ${JSON.stringify(v)}`);
    if (opts.integer && !Number.isInteger(v)) this.fail(key, `must be an integer, got ${v}`);
    if (opts.min !== undefined && v < opts.min) this.fail(key, `must be >= ${opts.min}, got ${v}`);
    if (opts.max !== undefined && v > opts.max) this.fail(key, `must be <= ${opts.max}, got ${v}`);
    return v;
  }

  integer(key: string, def?: number, opts: { min?: number; max?: number } = {}): number {
    return this.number(key, def, { ...opts, integer: true });
  }

  boolean(key: string, def?: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (def === undefined) this.fail(key, 'is required (true or false)');
      return def;
    }
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[], def?: T): T {
    const v = this.string(key, def);
    if (!values.includes(v as T)) this.fail(key, `must be one of ${values.join(', ')}, got '${v}'`);
    return v as T;
  }

  stringArray(key: string, def?: string[]): string[] {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (def === undefined) this.fail(key, 'is required (a list of strings)');
      return def;
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) this.fail(key, 'must be a list of strings');
    return v as string[];
  }
}

/** Offset of the first JSON syntax error in `text` (Node 20's JSON.parse does not report one). */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const lit = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail();
  };
  const str = () => {
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail();
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const num = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail();
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail();
      }
    } else if (c === '"') str();
    else if (c === 't') lit('true');
    else if (c === 'f') lit('false');
    else if (c === 'n') lit('null');
    else num();
  };
  try {
    value();
    ws();
    if (i < text.length) fail();
    return text.length;
  } catch (pos) {
    return typeof pos === 'number' ? Math.min(pos, text.length) : 0;
  }
}
