import { OcropsError } from '@ocrops/common';

/**
 * The characters of the reference PyTorch CTCModel recipe, in its order (Vietnamese letters with every tone mark, digits and ` .,-/()'#+:`).
 * The reference recipe numbered them from 3 (0 = PAD, 1 = SOS, 2 = EOS); CTC needs no SOS/EOS, so here they are numbered
 * from 1 and 0 is the blank/PAD: 207 characters, 208 classes.
 */
export const VIETNAMESE_CHARS =
  'aáàạảãăắằẳẵặâấầẩẫậbcdđeéèẹẻẽêếềệểễfghiíìịỉĩjklmnoóòọỏõôốồộổỗơớờợởỡpqrstuúùụủũưứừựửữvxyýỳỷỹỵzw' +
  'AÁÀẠẢÃĂẮẰẲẴẶÂẤẦẨẪẬBCDĐEÉÈẸẺẼÊẾỀỆỂỄFGHIÍÌỊỈĨJKLMNOÓÒỌỎÕÔỐỒỘỔỖƠỚỜỢỞỠPQRSTUÚÙỤỦŨƯỨỪỰỬỮVXYÝỲỴỶỸZW' +
  "0123456789 .,-/()'#+:";

/** Serialised form of a charset (stored in prepared datasets and model metadata). */
export interface CharsetJSON {
  /** The characters without the blank, in class order (class id = index + 1). */
  chars: string[];
  /** Always 0. */
  blank: 0;
}

/**
 * Maps characters to class ids for CTC: id 0 is the blank (also used as PAD), ids 1..n are the characters.
 * Text is normalised to Unicode NFC before encoding and checking; one "character" is one code point of NFC text.
 */
export class Charset {
  /** The characters without the blank, in class order. */
  readonly chars: string[];
  /** chars.length + 1 (the blank). */
  readonly numClasses: number;
  private readonly index: Map<string, number>;

  constructor(chars: Iterable<string>) {
    const list: string[] = [];
    const index = new Map<string, number>();
    for (const raw of chars) {
      const c = raw.normalize('NFC');
      if ([...c].length !== 1) {
        throw new OcropsError('OCROPS_DATA_CHARSET', `charset entry ${JSON.stringify(raw)} is not a single character`, {
          hint: 'list each character once, as one Unicode code point after NFC normalisation',
        });
      }
      if (index.has(c)) {
        throw new OcropsError('OCROPS_DATA_CHARSET', `charset holds ${JSON.stringify(c)} twice`, {
          hint: 'list each character once',
        });
      }
      index.set(c, list.length + 1);
      list.push(c);
    }
    if (list.length === 0)
      throw new OcropsError('OCROPS_DATA_CHARSET', 'charset is empty', { hint: 'give at least one character' });
    this.chars = list;
    this.numClasses = list.length + 1;
    this.index = index;
  }

  /** The default charset of the reference CTCModel recipe: 207 characters + blank. */
  static vietnamese(): Charset {
    return new Charset([...VIETNAMESE_CHARS]);
  }

  /** A charset from an explicit string of characters (each code point once, order kept). */
  static fromString(chars: string): Charset {
    return new Charset([...chars.normalize('NFC')]);
  }

  /** The characters found in `texts` (after NFC), sorted by code point: deterministic for the same set of texts. */
  static fromTexts(texts: string[]): Charset {
    const set = new Set<string>();
    for (const t of texts) for (const c of t.normalize('NFC')) set.add(c);
    return new Charset([...set].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  static fromJSON(j: CharsetJSON): Charset {
    if (!j || !Array.isArray(j.chars)) {
      throw new OcropsError('OCROPS_DATA_CHARSET', 'charset JSON must be an object with a `chars` array', {
        hint: 'the file was not written by ocrops, or is damaged',
      });
    }
    return new Charset(j.chars);
  }

  toJSON(): CharsetJSON {
    return { chars: [...this.chars], blank: 0 };
  }

  has(char: string): boolean {
    return this.index.has(char);
  }

  /** Class ids of `text` (NFC). Throws OCROPS_DATA_UNKNOWN_CHAR on a character outside the charset. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const c of text.normalize('NFC')) {
      const id = this.index.get(c);
      if (id === undefined) {
        throw new OcropsError(
          'OCROPS_DATA_UNKNOWN_CHAR',
          `character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) of ${JSON.stringify(text)} is not in the charset`,
          {
            hint: 'check with charset.missing(text) first, or use a charset derived from the data',
          },
        );
      }
      ids.push(id);
    }
    return ids;
  }

  /** Text of class ids; the blank (0) and ids outside the charset are dropped. No CTC collapsing here. */
  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id > 0 && id <= this.chars.length) s += this.chars[id - 1];
    }
    return s;
  }

  /** The distinct characters of `text` (NFC) that are not in the charset, in order of first appearance. */
  missing(text: string): string[] {
    const out: string[] = [];
    for (const c of text.normalize('NFC')) if (!this.index.has(c) && !out.includes(c)) out.push(c);
    return out;
  }
}
