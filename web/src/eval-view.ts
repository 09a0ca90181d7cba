/** What the page shows of an evaluation: the numbers, plus the most confidently wrong images. */
import type { EvalResult, ImageSet } from '../../src/index.js';
import type { EvalView, Misclassified } from './protocol.js';

/** How many misclassified validation images the page shows. */
export const MISCLASSIFIED_SHOWN = 8;

/**
 * The evaluation of `valIdx` as the page shows it. `result.probabilities` rows follow `valIdx`;
 * the wrong predictions with the highest probability come first, with their pixels.
 */
export function evalView(result: EvalResult, valIdx: readonly number[], set: ImageSet, paths: readonly string[]): EvalView {
  const k = result.confusion.length;
  const wrong: { i: number; pred: number; conf: number }[] = [];
  valIdx.forEach((img, i) => {
    const row = result.probabilities.subarray(i * k, (i + 1) * k);
    let pred = 0;
    for (let c = 1; c < k; c++) if (row[c]! > row[pred]!) pred = c;
    if (pred !== set.labels[img]) wrong.push({ i, pred, conf: row[pred]! });
  });
  wrong.sort((a, b) => b.conf - a.conf);
  const per = set.imageSize * set.imageSize * 3;
  const misclassified: Misclassified[] = wrong.slice(0, MISCLASSIFIED_SHOWN).map(({ i, pred, conf }) => {
    const img = valIdx[i]!;
    return {
      path: paths[img] ?? `image ${img}`,
      trueClass: set.labels[img]!,
      predicted: pred,
      confidence: conf,
      size: set.imageSize,
      rgb: set.images.slice(img * per, (img + 1) * per),
    };
  });
  return {
    accuracy: result.accuracy,
    loss: result.loss,
    count: result.count,
    confusion: result.confusion,
    perClassAccuracy: result.perClassAccuracy.map((v) => (Number.isFinite(v) ? v : NaN)),
    misclassified,
  };
}
