/**
 * Text metrics of the reference PyTorch CTCModel recipe: `acc_by_char` (F1 of the characters matched by Python's
 * `difflib.SequenceMatcher`), `acc_by_field` (exact match), plus CER and WER by Levenshtein distance.
 * Every input is NFC-normalised first so composed and decomposed Vietnamese diacritics compare equal; strings are
 * compared by Unicode code point, as Python does.
 */

/** Code points of a string after NFC normalisation. */
function codePoints(s: string): string[] {
  return Array.from(s.normalize('NFC'));
}

/**
 * Total length of `difflib.SequenceMatcher(None, a, b).get_matching_blocks()`, ported from CPython's difflib:
 * `b2j` index of `b`, the "autojunk" heuristic (when `len(b) >= 200`, elements of `b` occurring more than
 * `len(b) // 100 + 1` times are "popular" and cannot start a match, though matches may still extend over them),
 * longest-match search with extension, and recursive splitting on both sides.
 */
export function matchingCharacters(a: readonly string[], b: readonly string[]): number {
  const b2j = new Map<string, number[]>();
  b.forEach((elt, i) => {
    let list = b2j.get(elt);
    if (!list) b2j.set(elt, (list = []));
    list.push(i);
  });
  const n = b.length;
  if (n >= 200) {
    const ntest = Math.floor(n / 100) + 1;
    for (const [elt, idxs] of [...b2j]) if (idxs.length > ntest) b2j.delete(elt);
  }
  const nothing: number[] = [];

  const findLongestMatch = (alo: number, ahi: number, blo: number, bhi: number): [number, number, number] => {
    let besti = alo;
    let bestj = blo;
    let bestsize = 0;
    let j2len = new Map<number, number>();
    for (let i = alo; i < ahi; i++) {
      const newj2len = new Map<number, number>();
      for (const j of b2j.get(a[i]) ?? nothing) {
        if (j < blo) continue;
        if (j >= bhi) break;
        const k = (j2len.get(j - 1) ?? 0) + 1;
        newj2len.set(j, k);
        if (k > bestsize) {
          besti = i - k + 1;
          bestj = j - k + 1;
          bestsize = k;
        }
      }
      j2len = newj2len;
    }
    // No junk function is used, so only the non-junk extension loops of difflib apply (popular elements are not junk).
    while (besti > alo && bestj > blo && a[besti - 1] === b[bestj - 1]) {
      besti--;
      bestj--;
      bestsize++;
    }
    while (besti + bestsize < ahi && bestj + bestsize < bhi && a[besti + bestsize] === b[bestj + bestsize]) bestsize++;
    return [besti, bestj, bestsize];
  };

  let total = 0;
  const queue: Array<[number, number, number, number]> = [[0, a.length, 0, b.length]];
  while (queue.length > 0) {
    const [alo, ahi, blo, bhi] = queue.pop()!;
    const [i, j, k] = findLongestMatch(alo, ahi, blo, bhi);
    if (k > 0) {
      total += k;
      if (alo < i && blo < j) queue.push([alo, i, blo, j]);
      if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
    }
  }
  return total;
}

/**
 * The reference recipe's `calculate_ac(pred, target)`: both empty -> 1; an empty string on either side -> 0; otherwise the F1
 * of precision `matched/len(pred)` and recall `matched/len(target)`, where `matched` is the total size of difflib's
 * matching blocks of `SequenceMatcher(None, pred, target)`. Result in [0, 1].
 */
export function accByChar(pred: string, target: string): number {
  const p = codePoints(pred);
  const t = codePoints(target);
  if (p.length === 0 && t.length === 0) return 1;
  if (p.length === 0 || t.length === 0) return 0;
  const correct = matchingCharacters(p, t);
  if (correct === 0) return 0;
  const acc1 = correct / p.length;
  const acc2 = correct / t.length;
  return (2 * acc1 * acc2) / (acc1 + acc2);
}

function checkPairs(preds: readonly string[], targets: readonly string[], what: string): void {
  if (preds.length !== targets.length) {
    throw new RangeError(`${what}: ${preds.length} predictions but ${targets.length} targets`);
  }
}

/** Mean of `accByChar` over pairs (0 for no pairs). */
export function meanAccByChar(preds: readonly string[], targets: readonly string[]): number {
  checkPairs(preds, targets, 'meanAccByChar');
  if (preds.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < preds.length; i++) s += accByChar(preds[i], targets[i]);
  return s / preds.length;
}

/** The reference recipe's `acc_by_field`: the share of predictions equal to their target after NFC (0 for no pairs). */
export function accByField(preds: readonly string[], targets: readonly string[]): number {
  checkPairs(preds, targets, 'accByField');
  if (preds.length === 0) return 0;
  let ok = 0;
  for (let i = 0; i < preds.length; i++) if (preds[i].normalize('NFC') === targets[i].normalize('NFC')) ok++;
  return ok / preds.length;
}

/** Levenshtein distance (unit costs) between two token sequences. */
export function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur[j] = Math.min(sub, prev[j] + 1, cur[j - 1] + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

function errorRate(preds: readonly string[], targets: readonly string[], split: (s: string) => string[]): number {
  let errors = 0;
  let total = 0;
  for (let i = 0; i < preds.length; i++) {
    const t = split(targets[i]);
    errors += editDistance(split(preds[i]), t);
    total += t.length;
  }
  if (total === 0) return errors === 0 ? 0 : 1;
  return errors / total;
}

/**
 * Character error rate: total edit distance over code points / total target length (corpus-level, as jiwer/torchmetrics
 * compute it). With all targets empty: 0 if every prediction is empty too, else 1.
 */
export function cer(preds: readonly string[], targets: readonly string[]): number {
  checkPairs(preds, targets, 'cer');
  return errorRate(preds, targets, codePoints);
}

/** Word error rate: like `cer` over whitespace-separated words. */
export function wer(preds: readonly string[], targets: readonly string[]): number {
  checkPairs(preds, targets, 'wer');
  const words = (s: string) =>
    s
      .normalize('NFC')
      .split(/\s+/u)
      .filter((w) => w.length > 0);
  return errorRate(preds, targets, words);
}
