/**
 * The dataset check (`mobilegrad check`, and the warnings at the start of `train`): images per class,
 * sizes, colour modes and formats; files that will not decode; class imbalance; exact and
 * near-duplicate images within a class, across classes (likely mislabels) and between the training
 * and validation sets (leakage). Every finding names its files.
 */
import { isAbsolute, relative } from 'node:path';
import { findDuplicateGroups, DEFAULT_MAX_HAMMING, DEFAULT_MAX_THUMB_DISTANCE, type DuplicateOptions } from './find-duplicates.js';
import type { ImageInfo } from './image-info.js';
import type { SkippedFile } from './scan-folder.js';

/** Ratio of the largest to the smallest class at which the imbalance warning fires. */
export const IMBALANCE_WARN_RATIO = 3;
/** Fewest images for a useful model (the trainer refuses fewer without --allow-small). */
const MIN_IMAGES = 200;

/** Which set an image belongs to. */
export type Split = 'train' | 'val';

/** One readable image as the check sees it. */
export interface CheckedImage {
  path: string;
  label: number;
  split: Split;
  info: ImageInfo;
}

/** What the check is run on. */
export interface CheckInput {
  classes: string[];
  images: CheckedImage[];
  /** Image files that would not decode, with the reason. */
  undecodable: SkippedFile[];
  /** Training resolution, when known: images smaller than it are counted (they get upscaled). */
  imageSize?: number;
  duplicates?: DuplicateOptions;
}

/** One class's row of the table. */
export interface ClassRow {
  name: string;
  images: number;
  train: number;
  val: number;
}

/** Where a duplicate group sits: a group can be in several of these at once. */
export type DuplicateScope = 'across-classes' | 'train-val' | 'within-class';

/** A group of copies of one picture. */
export interface DuplicateFinding {
  /** `exact`: identical pixels; `near`: the same picture re-encoded, resized or re-toned. */
  kind: 'exact' | 'near';
  scopes: DuplicateScope[];
  files: { path: string; class: string; split: Split }[];
}

/** The check's result (also what `mobilegrad check --json` prints). */
export interface DatasetCheck {
  classes: ClassRow[];
  total: number;
  train: number;
  val: number;
  sizes: {
    minWidth: number; maxWidth: number; minHeight: number; maxHeight: number;
    medianWidth: number; medianHeight: number;
    /** The most common sizes, "WxH", with their counts. */
    common: { size: string; count: number }[];
    distinct: number;
    nonSquare: number;
    /** Images smaller than the training size on either side (upscaled), when it is known. */
    smallerThanTraining: number | null;
  };
  /** Count per format (png, jpeg, ...). */
  formats: Record<string, number>;
  /** Count per colour mode, with the bit depth when it is not 8 ("rgb 16-bit"). */
  modes: Record<string, number>;
  undecodable: SkippedFile[];
  imbalance: { ratio: number; largest: string; largestCount: number; smallest: string; smallestCount: number; warn: boolean };
  duplicates: DuplicateFinding[];
  /** Thresholds the duplicate search used. */
  settings: { maxHamming: number; maxThumbDistance: number; imbalanceWarnRatio: number };
}

function median(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}

/** Runs every check on `input`. Pure computation: reading the files is inspect-folder.ts's job. */
export function checkDataset(input: CheckInput): DatasetCheck {
  const { classes, images } = input;
  const rows: ClassRow[] = classes.map((name) => ({ name, images: 0, train: 0, val: 0 }));
  for (const im of images) {
    const r = rows[im.label]!;
    r.images++;
    r[im.split]++;
  }
  const widths = images.map((i) => i.info.width), heights = images.map((i) => i.info.height);
  const sizeCounts = countBy(images, (i) => `${i.info.width}x${i.info.height}`);
  const size = input.imageSize;

  let largest = rows[0]!, smallest = rows[0]!;
  for (const r of rows) {
    if (r.images > largest.images) largest = r;
    if (r.images < smallest.images) smallest = r;
  }
  const ratio = smallest.images > 0 ? largest.images / smallest.images : Infinity;

  const maxHamming = input.duplicates?.maxHamming ?? DEFAULT_MAX_HAMMING;
  const maxThumbDistance = input.duplicates?.maxThumbDistance ?? DEFAULT_MAX_THUMB_DISTANCE;
  const groups = findDuplicateGroups(images.map((i) => i.info), { maxHamming, maxThumbDistance });
  const duplicates: DuplicateFinding[] = groups.map((g) => {
    const files = g.members.map((m) => ({ path: images[m]!.path, class: classes[images[m]!.label]!, split: images[m]!.split }));
    const scopes: DuplicateScope[] = [];
    if (new Set(files.map((f) => f.class)).size > 1) scopes.push('across-classes');
    if (new Set(files.map((f) => f.split)).size > 1) scopes.push('train-val');
    if (scopes.length === 0) scopes.push('within-class');
    return { kind: g.identical ? 'exact' : 'near', scopes, files };
  });

  return {
    classes: rows,
    total: images.length,
    train: images.filter((i) => i.split === 'train').length,
    val: images.filter((i) => i.split === 'val').length,
    sizes: {
      minWidth: Math.min(...widths), maxWidth: Math.max(...widths), minHeight: Math.min(...heights), maxHeight: Math.max(...heights),
      medianWidth: median(widths), medianHeight: median(heights),
      common: Object.entries(sizeCounts).slice(0, 5).map(([s, count]) => ({ size: s, count })),
      distinct: Object.keys(sizeCounts).length,
      nonSquare: images.filter((i) => i.info.width !== i.info.height).length,
      smallerThanTraining: size ? images.filter((i) => i.info.width < size || i.info.height < size).length : null,
    },
    formats: countBy(images, (i) => i.info.format),
    modes: countBy(images, (i) => (i.info.bitDepth === 8 ? i.info.mode : `${i.info.mode} ${i.info.bitDepth}-bit`)),
    undecodable: input.undecodable,
    imbalance: { ratio, largest: largest.name, largestCount: largest.images, smallest: smallest.name, smallestCount: smallest.images, warn: ratio >= IMBALANCE_WARN_RATIO },
    duplicates,
    settings: { maxHamming, maxThumbDistance, imbalanceWarnRatio: IMBALANCE_WARN_RATIO },
  };
}

const SCOPE_TITLES: Record<DuplicateScope, string> = {
  'across-classes': 'the same picture in different classes (likely mislabelled: keep it in one class)',
  'train-val': 'the same picture in training and validation (leakage: validation accuracy is inflated; remove one copy)',
  'within-class': 'copies within a class (they weigh that picture more; remove the extras)',
};

/** A path as the user would type it: relative to the working folder when inside it. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function describeGroup(d: DuplicateFinding, maxFiles = Infinity): string {
  const shown = d.files.slice(0, maxFiles).map((f) => `${displayPath(f.path)} (${f.class}, ${f.split})`).join(', ');
  const more = d.files.length > maxFiles ? `, and ${d.files.length - maxFiles} more` : '';
  return `${d.kind === 'exact' ? 'identical' : 'near-duplicate'}: ${shown}${more}`;
}

/** The advice line of an imbalanced dataset. */
export function imbalanceAdvice(c: DatasetCheck): string {
  const i = c.imbalance;
  return `classes are imbalanced: "${i.largest}" has ${i.largestCount} images, "${i.smallest}" ${i.smallestCount} (ratio ${i.ratio.toFixed(1)}:1); `
    + 'the model will favour the large classes: use --class-weights auto, or add images to the small ones';
}

/**
 * One-line warnings for the start of training (nothing when the data look fine). With
 * `classWeightsOn` the imbalance is only noted, since the remedy is already in use.
 */
export function checkWarnings(c: DatasetCheck, options: { maxGroups?: number; classWeightsOn?: boolean } = {}): string[] {
  const maxGroups = options.maxGroups ?? 5;
  const out: string[] = [];
  const i = c.imbalance;
  if (i.warn && options.classWeightsOn) out.push(`classes are imbalanced ("${i.largest}" ${i.largestCount} images, "${i.smallest}" ${i.smallestCount}, ratio ${i.ratio.toFixed(1)}:1): --class-weights auto balances the loss`);
  else if (i.warn) out.push(imbalanceAdvice(c));
  for (const scope of ['across-classes', 'train-val', 'within-class'] as const) {
    const found = c.duplicates.filter((d) => d.scopes.includes(scope));
    if (!found.length) continue;
    const list = found.slice(0, maxGroups).map((d) => describeGroup(d, 4)).join('; ');
    out.push(`${found.length} group(s) of ${SCOPE_TITLES[scope]}: ${list}${found.length > maxGroups ? `; ... (run 'mobilegrad check' for all)` : ''}`);
  }
  return out;
}

/** The human-readable report of `mobilegrad check`. */
export function formatCheck(c: DatasetCheck): string {
  const lines: string[] = [];
  const w = Math.max(5, ...c.classes.map((r) => r.name.length));
  const hasVal = c.val > 0;
  lines.push(`${'class'.padEnd(w)}  ${'images'.padStart(6)}${hasVal ? `  ${'train'.padStart(6)}  ${'val'.padStart(6)}` : ''}`);
  for (const r of c.classes) lines.push(`${r.name.padEnd(w)}  ${String(r.images).padStart(6)}${hasVal ? `  ${String(r.train).padStart(6)}  ${String(r.val).padStart(6)}` : ''}`);
  lines.push(`${'total'.padEnd(w)}  ${String(c.total).padStart(6)}${hasVal ? `  ${String(c.train).padStart(6)}  ${String(c.val).padStart(6)}` : ''}`);
  lines.push('');
  const s = c.sizes;
  if (c.total > 0) {
    lines.push(`sizes: ${s.minWidth}-${s.maxWidth} x ${s.minHeight}-${s.maxHeight} px (median ${s.medianWidth}x${s.medianHeight}), ${s.distinct} distinct; most common ${s.common.map((x) => `${x.size} (${x.count})`).join(', ')}`);
    if (s.nonSquare) lines.push(`  ${s.nonSquare} non-square image(s): --resize crop (default) cuts the centre square, squash stretches, pad letterboxes`);
    if (s.smallerThanTraining) lines.push(`  ${s.smallerThanTraining} image(s) smaller than the training size: they are upscaled`);
    lines.push(`formats: ${Object.entries(c.formats).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    lines.push(`colour modes: ${Object.entries(c.modes).map(([k, v]) => `${k} ${v}`).join(', ')} (all converted to 8-bit RGB)`);
  }
  lines.push('');
  const problems: string[] = [];
  if (c.total < MIN_IMAGES) problems.push(`only ${c.total} readable images: ${MIN_IMAGES} is the minimum for a useful model, 500-2,000 is best`);
  if (c.undecodable.length) {
    problems.push(`${c.undecodable.length} file(s) will not decode and are skipped:`);
    for (const u of c.undecodable) problems.push(`  ${displayPath(u.path)}: ${u.reason}`);
  }
  problems.push(c.imbalance.warn ? imbalanceAdvice(c)
    : `class balance: largest/smallest ${Number.isFinite(c.imbalance.ratio) ? c.imbalance.ratio.toFixed(1) : 'inf'}:1 (fine below ${IMBALANCE_WARN_RATIO}:1)`);
  for (const scope of ['across-classes', 'train-val', 'within-class'] as const) {
    const found = c.duplicates.filter((d) => d.scopes.includes(scope));
    if (!found.length) continue;
    problems.push(`${found.length} group(s) of ${SCOPE_TITLES[scope]}:`);
    for (const d of found) problems.push(`  ${describeGroup(d)}`);
  }
  if (!c.duplicates.length) problems.push(`duplicates: none found (exact, or pHash within ${c.settings.maxHamming} bits and thumbnails within ${c.settings.maxThumbDistance})`);
  lines.push(...problems);
  return lines.join('\n') + '\n';
}
