import { Rng } from '../tensor/random.js';

/** Indices of the training and validation images, each in ascending order. */
export interface Split {
  train: number[];
  val: number[];
}

/**
 * Splits image indices into training and validation sets class by class, so each class keeps its share.
 *
 * Per class of n images, round(n * fraction) go to validation, but at least 1 when n >= 2 and
 * fraction > 0, and never all of them (a class of 1 stays entirely in training). Which images go
 * where depends only on `labels`, `fraction` and `seed`.
 *
 * @param labels class index of each image.
 * @param fraction share of each class held out for validation, in [0, 1).
 * @param seed any integer; the same seed gives the same split.
 */
export function stratifiedSplit(labels: ArrayLike<number>, fraction: number, seed: number): Split {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`stratifiedSplit: fraction must be in [0, 1), got ${fraction}`);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    let list = byClass.get(l);
    if (!list) byClass.set(l, (list = []));
    list.push(i);
  }
  const rng = new Rng(seed);
  const train: number[] = [], val: number[] = [];
  for (const cls of [...byClass.keys()].sort((a, b) => a - b)) {
    const idx = byClass.get(cls)!;
    shuffleInPlace(idx, rng);
    const n = idx.length;
    let nVal = Math.round(n * fraction);
    if (fraction > 0 && n >= 2) nVal = Math.min(n - 1, Math.max(1, nVal));
    if (n < 2) nVal = 0;
    for (let k = 0; k < n; k++) (k < nVal ? val : train).push(idx[k]);
  }
  train.sort((a, b) => a - b);
  val.sort((a, b) => a - b);
  return { train, val };
}

/** Fisher-Yates shuffle driven by `rng`. */
export function shuffleInPlace<T>(a: T[], rng: Rng): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i]; a[i] = a[j]; a[j] = t;
  }
  return a;
}
