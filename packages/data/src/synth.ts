import { existsSync } from 'node:fs';
import { createCanvas, GlobalFonts, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';
import { OcropsError } from '@ocrops/common';
import { randomAddress } from './addresses.js';
import type { SyntheticOptions } from './config.js';
import { dictionaryText, loadDictionary } from './dictionary.js';
import { covers, fontCoverage, type CodeRanges } from './font-coverage.js';
import { PatternText } from './pattern-text.js';
import { Rng, rngFor } from './rng.js';

/**
 * The default fonts, all covering Vietnamese, with the Debian package that ships each (scripts/setup installs them).
 * Synthetic lines depend on this exact set: a missing file is an error, never a silently smaller set, so the same seed
 * renders the same data on every machine.
 */
const DEFAULT_FONTS: Record<string, string[]> = {
  'fonts-dejavu-core': ['dejavu/DejaVuSans.ttf', 'dejavu/DejaVuSans-Bold.ttf', 'dejavu/DejaVuSerif.ttf'],
  'fonts-dejavu-extra': [
    'dejavu/DejaVuSans-Oblique.ttf',
    'dejavu/DejaVuSansCondensed.ttf',
    'dejavu/DejaVuSerif-Italic.ttf',
    'dejavu/DejaVuSerifCondensed.ttf',
  ],
  'fonts-noto-core': [
    'noto/NotoSans-Regular.ttf',
    'noto/NotoSans-Bold.ttf',
    'noto/NotoSans-Italic.ttf',
    'noto/NotoSerif-Regular.ttf',
    'noto/NotoSerif-Italic.ttf',
    'noto/NotoSerif-Bold.ttf',
  ],
  'fonts-liberation2': [
    'liberation2/LiberationSans-Regular.ttf',
    'liberation2/LiberationSans-Bold.ttf',
    'liberation2/LiberationSans-Italic.ttf',
    'liberation2/LiberationSerif-Regular.ttf',
    'liberation2/LiberationSerif-Italic.ttf',
  ],
};
const FONT_DIR = '/usr/share/fonts/truetype';

/** Absolute paths of the default font files. */
export const DEFAULT_FONT_FILES = Object.values(DEFAULT_FONTS).flatMap((files) => files.map((f) => `${FONT_DIR}/${f}`));

/** Throws, naming the files and the Debian packages to install, when any default font file is missing. */
function requireDefaultFonts(): void {
  const missing = Object.entries(DEFAULT_FONTS).flatMap(([pkg, files]) =>
    files.filter((f) => !existsSync(`${FONT_DIR}/${f}`)).map((f) => ({ pkg, file: `${FONT_DIR}/${f}` })),
  );
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((m) => m.pkg))];
  throw new OcropsError(
    'OCROPS_DATA_FONTS',
    `${missing.length} of the ${DEFAULT_FONT_FILES.length} default synthetic-data fonts are missing (${missing.map((m) => m.file).join(', ')})`,
    {
      hint: `run scripts/setup, or: apt-get install ${packages.join(' ')}; or list font files of your own in synthetic.fonts`,
    },
  );
}

/** The text generator of `text: pattern` lines; errors name the config field. */
function patternTextOf(pattern: string | undefined, alphabet?: ReadonlySet<string>): PatternText {
  if (pattern === undefined) {
    throw new OcropsError('OCROPS_DATA_PATTERN', 'synthetic.text is pattern, but there is no synthetic.pattern', {
      hint: "set synthetic.pattern (or the source's text_pattern) to the regular expression the texts follow",
    });
  }
  try {
    return new PatternText(pattern, alphabet);
  } catch (e) {
    if (e instanceof OcropsError) throw new OcropsError(e.code, `synthetic.pattern: ${e.message}`, { hint: e.hint });
    throw e;
  }
}

/** A fixed table of standard-normal samples: per-pixel noise reads it at a seeded offset and stride (fast, deterministic). */
const NOISE_N = 1 << 16;
const NOISE = (() => {
  const rng = new Rng(0x5eed);
  const t = new Float32Array(NOISE_N);
  for (let i = 0; i < NOISE_N; i++) t[i] = rng.normal();
  return t;
})();

const registered = new Map<string, string>();

/** A font registered with the canvas: its family alias and its file. */
interface FontFace {
  alias: string;
  file: string;
}

/** Registers font files with the canvas (in the order given, missing files left out). */
function loadFontFaces(files?: string[]): FontFace[] {
  if (!files) requireDefaultFonts();
  const list = (files ?? DEFAULT_FONT_FILES).filter((f) => existsSync(f));
  const faces: FontFace[] = [];
  for (const file of list) {
    let alias = registered.get(file);
    if (!alias) {
      alias = `ocrops-font-${registered.size}`;
      if (!GlobalFonts.registerFromPath(file, alias)) continue;
      registered.set(file, alias);
    }
    faces.push({ alias, file });
  }
  if (faces.length === 0) {
    throw new OcropsError(
      'OCROPS_DATA_FONTS',
      `no usable font found (looked for ${(files ?? DEFAULT_FONT_FILES).join(', ')})`,
      {
        hint: 'list readable .ttf/.otf files in synthetic.fonts, or remove it to use the default fonts that scripts/setup installs',
      },
    );
  }
  return faces;
}

/** Registers font files with the canvas and returns their family aliases (in the order given, missing files left out). */
export function loadFonts(files?: string[]): string[] {
  return loadFontFaces(files).map((f) => f.alias);
}

/** One rendered synthetic line: uint8 pixels [height, width, channels] (255 = white) and its text. */
export interface SynthLine {
  text: string;
  data: Uint8Array;
  width: number;
  /** True when the line was squeezed horizontally to fit the maximum width. */
  squeezed: boolean;
}

/**
 * Renders synthetic lines (Vietnamese addresses, or dictionary words with `text: dictionary`) with varying font, size,
 * spacing, slant, blur, noise and polarity. `line(i)` depends only on (seed, i): the same seed gives the same pixels
 * on the same machine and fonts.
 */
export class SyntheticLines {
  /** The fonts and the code points each can draw. */
  private readonly fonts: Array<FontFace & { coverage: CodeRanges }>;
  private readonly canvas: Canvas;
  private readonly ctx: SKRSContext2D;
  private readonly maxWidth: number;
  private readonly words?: string[];
  private readonly patternText?: PatternText;

  /**
   * @param alphabet the characters a text may use (a set's charset): a dictionary word outside it is drawn again, a
   *   pattern's classes draw only from it
   */
  constructor(
    private readonly opts: SyntheticOptions,
    private readonly height: number,
    private readonly channels: 1 | 3 = 1,
    maxWidth?: number,
    private readonly fixedWidth?: number,
    private readonly alphabet?: ReadonlySet<string>,
  ) {
    this.fonts = loadFontFaces(opts.fonts).map((f) => ({ ...f, coverage: fontCoverage(f.file) }));
    if (opts.text === 'dictionary') this.words = loadDictionary(opts.dictionary);
    if (opts.text === 'pattern') this.patternText = patternTextOf(opts.pattern, alphabet);
    this.maxWidth = fixedWidth ?? maxWidth ?? height * 40;
    this.canvas = createCanvas(this.maxWidth, height);
    this.ctx = this.canvas.getContext('2d');
  }

  /** Text of line i (cheap; no rendering). */
  text(i: number): string {
    return this.pickText(rngFor(this.opts.seed, i));
  }

  /**
   * A dictionary line's word, or a pattern's text; else the address of a line, or (with probability `words.p`) a run
   * of consecutive words of it.
   */
  private pickText(rng: Rng): string {
    if (this.words) return dictionaryText(rng, this.words, this.opts, this.alphabet);
    if (this.patternText) return this.patternText.draw(rng);
    const address = randomAddress(rng);
    const { p, range } = this.opts.words ?? { p: 0, range: [1, 1] };
    if (p <= 0 || !rng.chance(p)) return address;
    const words = address.split(' ');
    const k = Math.min(words.length, rng.int(range[0], range[1]));
    const start = rng.int(0, words.length - k);
    // a run may end on a separator: "Quận 3," reads as "Quận 3"
    return words
      .slice(start, start + k)
      .join(' ')
      .replace(/,$/, '');
  }

  /** Renders line i. */
  line(i: number): SynthLine {
    const rng = rngFor(this.opts.seed, i);
    const text = this.pickText(rng);
    return { text, ...this.render(text, rng) };
  }

  /**
   * The fonts with a glyph for every character of `text` (all of them for the default fonts and the address or
   * dictionary lines of their scripts, so the draws of existing seeds do not change).
   * @throws OcropsError OCROPS_DATA_FONTS when no font can draw the text, naming the characters
   */
  private fontsFor(text: string): FontFace[] {
    const points = [...new Set(text)].map((c) => c.codePointAt(0)!);
    const able = this.fonts.filter((f) => points.every((cp) => covers(f.coverage, cp)));
    if (able.length > 0) return able;
    const missing = [...new Set(text)].filter((c) => !this.fonts.some((f) => covers(f.coverage, c.codePointAt(0)!)));
    throw new OcropsError(
      'OCROPS_DATA_FONTS',
      `no synthetic-data font can draw all of "${text}"${missing.length ? ` (no font has ${missing.join(' ')})` : ''}; fonts: ${this.fonts.map((f) => f.file).join(', ')}`,
      {
        hint: 'add a font with those characters to synthetic.fonts (Chinese, for example: apt-get install fonts-wqy-microhei, /usr/share/fonts/truetype/wqy/wqy-microhei.ttc)',
      },
    );
  }

  /** Renders `text` with styles drawn from `rng`. */
  render(text: string, rng: Rng): { data: Uint8Array; width: number; squeezed: boolean } {
    const { opts, height: H, ctx } = this;
    const s = H / 32;
    const font = rng.pick(this.fontsFor(text)).alias;
    const size = Math.max(6, Math.round(H * rng.uniform(opts.fontScale[0], opts.fontScale[1])));
    const spacing = rng.uniform(opts.spacing[0], opts.spacing[1]) * s;
    const slant = rng.uniform(opts.slant[0], opts.slant[1]);
    let ink = rng.int(0, 70);
    let paper = rng.int(205, 255);
    // drawn only when asked for, so the address lines of existing seeds keep their pixels
    if (opts.invertP > 0 && rng.chance(opts.invertP)) [ink, paper] = [255 - ink, 255 - paper];
    let marginL = rng.uniform(1, 6) * s;
    let marginR = rng.uniform(1, 6) * s;
    const dy = rng.uniform(-0.06, 0.06) * H;
    const blurR = rng.chance(opts.blur.p) ? rng.uniform(opts.blur.radius[0], opts.blur.radius[1]) * s : 0;
    const noise = rng.uniform(opts.noise[0], opts.noise[1]) * 255;
    const scene = opts.sceneP > 0 && rng.chance(opts.sceneP) ? sceneStyle(rng, s) : undefined;
    if (scene) ({ ink, paper, marginL, marginR } = scene);
    const stretch = scene?.stretch ?? 1;

    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.font = `${Math.round(size * (scene?.scale ?? 1))}px "${font}"`;
    ctx.letterSpacing = `${spacing.toFixed(2)}px`;
    const textW = ctx.measureText(text).width * stretch;
    const natural = Math.ceil(marginL + textW + marginR + Math.abs(slant) * H);
    const W = this.fixedWidth ?? Math.max(8, Math.min(this.maxWidth, natural));
    const sx = Math.min(1, W / natural);

    ctx.fillStyle = scene ? paperGradient(ctx, scene, W, H) : gray(paper);
    ctx.fillRect(0, 0, W, H);
    const base = H / 2 + dy;
    // x' = sx * (stretch * x - slant * (y - base)) + offset: shear about the text's middle line, then fit to the width
    const x0 = sx * (marginL + Math.max(0, slant) * H * 0.5) + slant * sx * base;
    ctx.setTransform(sx * stretch, 0, -slant * sx, 1, x0, 0);
    ctx.textBaseline = 'middle';
    if (scene) drawSceneEffects(ctx, scene, text, base);
    ctx.fillStyle = gray(ink);
    ctx.fillText(text, 0, base);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    if (scene) drawClutter(ctx, scene, W, H);

    // everything drawn is gray (R = G = B), so the red channel is the gray value
    const rgba = ctx.getImageData(0, 0, W, H).data;
    const n = W * H;
    const passes = blurR > 0.05 ? Math.min(4, Math.max(1, Math.round((blurR / 0.7) ** 2))) : 0;
    const C = this.channels;
    const out = new Uint8Array(n * C);
    const start = rng.int(0, NOISE_N - 1);
    const stride = rng.int(0, 1023) * 2 + 1;
    let src: ArrayLike<number> = rgba;
    let step = 4;
    if (passes) {
      // blur: repeated [1,2,1]/4 passes (one pass ~ a Gaussian of sigma 0.7 px)
      const gray = new Float32Array(n);
      for (let p = 0, q = 0; p < n; p++, q += 4) gray[p] = rgba[q];
      const tmp = new Float32Array(n);
      for (let k = 0; k < passes; k++) blur121(gray, tmp, W, H);
      src = gray;
      step = 1;
    }
    if (C === 1 && noise > 0) {
      for (let p = 0, q = 0; p < n; p++, q += step) {
        const v = src[q] + noise * NOISE[(start + p * stride) & (NOISE_N - 1)];
        out[p] = v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
      }
    } else if (C === 1) {
      for (let p = 0, q = 0; p < n; p++, q += step) out[p] = src[q] + 0.5;
    } else {
      for (let p = 0, q = 0; p < n; p++, q += step) {
        const v = src[q] + (noise > 0 ? noise * NOISE[(start + p * stride) & (NOISE_N - 1)] : 0);
        out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = v < 0 ? 0 : v > 255 ? 255 : v + 0.5;
      }
    }
    return { data: out, width: W, squeezed: !this.fixedWidth && natural > W };
  }
}

const gray = (v: number): string => `rgb(${v},${v},${v})`;

/**
 * How a scene-text line looks (`synthetic.scene_p`): a word photographed on a sign or a shop front rather than printed
 * on paper. Ink and paper are any two grays at least 50 levels apart, the paper shades into a second gray, the word is
 * stretched or condensed and cropped tightly, and some lines have an outline or a drop shadow, and the cut-off edges
 * of neighbouring text or of the sign's border.
 */
interface SceneStyle {
  ink: number;
  paper: number;
  /** the paper's gray at the far end of its gradient, and the gradient's direction (radians) */
  paperEnd: number;
  angle: number;
  marginL: number;
  marginR: number;
  /** horizontal scale of the glyphs (condensed < 1 < extended) */
  stretch: number;
  /** font size over `font_scale`'s: scene crops are tight, so the word fills more of the height (descenders may be cut) */
  scale: number;
  outline?: { gray: number; width: number };
  shadow?: { gray: number; dx: number; dy: number };
  clutter: Clutter[];
}

/** What a scene line's edges cut off: a line of text above or below, a glyph beside the word, a border. */
type Clutter =
  | { kind: 'text-above' | 'text-below'; text: string; gray: number; show: number; x: number }
  | { kind: 'glyph-left' | 'glyph-right'; text: string; gray: number; show: number }
  | { kind: 'border'; y: number; width: number; gray: number };

/** Letters that cut-off neighbouring text is drawn from. */
const CLUTTER_TEXT = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Draws a scene line's look; `s` is the line height / 32. */
function sceneStyle(rng: Rng, s: number): SceneStyle {
  const paper = rng.int(0, 255);
  const contrast = rng.int(50, 220);
  // the ink on whichever side of the paper leaves room for the contrast (the darker side when both do)
  const ink =
    paper - contrast >= 0 && (paper + contrast > 255 || rng.chance(0.6))
      ? paper - contrast
      : Math.min(255, paper + contrast);
  const toward = (v: number, k: number) => Math.round(v + (ink - v) * k);
  const style: SceneStyle = {
    ink,
    paper,
    paperEnd: Math.max(0, Math.min(255, paper + rng.int(-40, 40))),
    angle: rng.uniform(0, 2 * Math.PI),
    marginL: rng.uniform(0, 3) * s,
    marginR: rng.uniform(0, 3) * s,
    stretch: rng.uniform(0.7, 1.3),
    scale: rng.uniform(1, 1.3),
    clutter: [],
  };
  const outlined = rng.chance(0.15);
  if (outlined) style.outline = { gray: 255 - ink, width: rng.uniform(1, 2.5) * s };
  else if (rng.chance(0.15)) {
    style.shadow = { gray: toward(paper, 0.5), dx: rng.uniform(-2, 2) * s, dy: rng.uniform(0.5, 2) * s };
  }
  const pieces = rng.chance(0.5) ? rng.int(1, 3) : 0;
  for (let k = 0; k < pieces; k++) style.clutter.push(clutterPiece(rng, s, rng.chance(0.5) ? ink : toward(paper, 0.6)));
  return style;
}

/** One cut-off piece at a scene line's edge, in gray `g`. */
function clutterPiece(rng: Rng, s: number, g: number): Clutter {
  const word = (n: number) => Array.from({ length: n }, () => CLUTTER_TEXT[rng.below(CLUTTER_TEXT.length)]).join('');
  const u = rng.next();
  if (u < 0.4) {
    const kind = rng.chance(0.5) ? 'text-above' : 'text-below';
    return { kind, text: word(rng.int(3, 12)), gray: g, show: rng.uniform(0.1, 0.3), x: rng.uniform(-0.3, 0.7) };
  }
  if (u < 0.75) {
    const kind = rng.chance(0.5) ? 'glyph-left' : 'glyph-right';
    return { kind, text: word(1), gray: g, show: rng.uniform(0.1, 0.35) };
  }
  return {
    kind: 'border',
    y: rng.chance(0.5) ? rng.uniform(0, 0.1) : rng.uniform(0.9, 1),
    width: rng.uniform(1, 2.5) * s,
    gray: g,
  };
}

/** The scene line's paper: a linear gradient between its two grays across the line. */
function paperGradient(ctx: SKRSContext2D, scene: SceneStyle, W: number, H: number) {
  const dx = (Math.cos(scene.angle) * W) / 2;
  const dy = (Math.sin(scene.angle) * H) / 2;
  const g = ctx.createLinearGradient(W / 2 - dx, H / 2 - dy, W / 2 + dx, H / 2 + dy);
  g.addColorStop(0, gray(scene.paper));
  g.addColorStop(1, gray(scene.paperEnd));
  return g;
}

/** The outline or drop shadow under the word, drawn in the word's own transform. */
function drawSceneEffects(ctx: SKRSContext2D, scene: SceneStyle, text: string, base: number): void {
  if (scene.shadow) {
    ctx.fillStyle = gray(scene.shadow.gray);
    ctx.fillText(text, scene.shadow.dx, base + scene.shadow.dy);
  }
  if (scene.outline) {
    ctx.strokeStyle = gray(scene.outline.gray);
    ctx.lineWidth = scene.outline.width * 2;
    ctx.lineJoin = 'round';
    ctx.strokeText(text, 0, base);
  }
}

/**
 * The pieces the crop cut off, in line coordinates: text above or below shows only `show` of its height, a glyph
 * beside the word only `show` of its width, so no readable character is added to the line.
 */
function drawClutter(ctx: SKRSContext2D, scene: SceneStyle, W: number, H: number): void {
  // in the word's font (ctx.font), unsheared
  ctx.textBaseline = 'alphabetic';
  for (const c of scene.clutter) {
    ctx.fillStyle = gray(c.gray);
    if (c.kind === 'border') {
      ctx.fillRect(0, c.y * H - c.width / 2, W, c.width);
      continue;
    }
    const m = ctx.measureText(c.text);
    const top = m.actualBoundingBoxAscent;
    const bottom = m.actualBoundingBoxDescent;
    const glyphH = top + bottom;
    if (c.kind === 'text-above') ctx.fillText(c.text, c.x * W, c.show * glyphH - bottom);
    else if (c.kind === 'text-below') ctx.fillText(c.text, c.x * W, H - c.show * glyphH + top);
    else {
      const w = m.width;
      const y = H / 2 + (top - bottom) / 2;
      ctx.fillText(c.text, c.kind === 'glyph-left' ? -w * (1 - c.show) : W - w * c.show, y);
    }
  }
}

/** One separable [1,2,1]/4 blur pass over a [h, w] image, in place (edges replicated). */
function blur121(img: Float32Array, tmp: Float32Array, w: number, h: number): void {
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x = 0; x < w; x++) {
      const l = x > 0 ? x - 1 : x;
      const rr = x < w - 1 ? x + 1 : x;
      tmp[r + x] = 0.25 * (img[r + l] + img[r + rr]) + 0.5 * img[r + x];
    }
  }
  for (let y = 0; y < h; y++) {
    const u = (y > 0 ? y - 1 : y) * w;
    const m = y * w;
    const d = (y < h - 1 ? y + 1 : y) * w;
    for (let x = 0; x < w; x++) img[m + x] = 0.25 * (tmp[u + x] + tmp[d + x]) + 0.5 * tmp[m + x];
  }
}
