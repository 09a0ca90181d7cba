/**
 * Classification metrics from a confusion matrix (and class probabilities for top-5), computed as
 * scikit-learn's classification_report does: per class precision, recall, F1 and support; macro
 * and support-weighted averages; the confusion matrix raw and normalised by true class. Platform-
 * neutral (the browser page can use it too).
 */

/** Precision, recall, F1 and support of one class. */
export interface ClassMetrics {
  class: string;
  /** Of the images predicted as this class, the share that are (0 when none were predicted). */
  precision: number;
  /** Of the images of this class, the share predicted as it (0 when the class has no images). */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f1: number;
  /** Number of images of this class. */
  support: number;
}

/** An average of precision, recall and F1 over the classes. */
export interface AveragedMetrics {
  precision: number;
  recall: number;
  f1: number;
}

/** Everything `metrics.json` and `--json` report about a model on a labelled set. */
export interface ClassificationMetrics {
  count: number;
  accuracy: number;
  /** Mean cross-entropy, when known. */
  loss?: number;
  perClass: ClassMetrics[];
  /** Unweighted mean over the classes that have images (each class counts the same). */
  macro: AveragedMetrics;
  /** Mean weighted by support (each image counts the same). */
  weighted: AveragedMetrics;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  /** Each row divided by its total: confusionNormalized[t][p] = share of class t predicted as p. */
  confusionNormalized: number[][];
  /** Share of images whose class is among the 5 most probable: only with more than 5 classes. */
  top5Accuracy?: number;
}

/**
 * Metrics of a confusion matrix `confusion[true][predicted]` for `classes`.
 * @param extra.probabilities class probabilities [n, K] with `extra.labels` [n]: adds top-5 accuracy when K > 5.
 */
export function classificationMetrics(
  confusion: readonly (readonly number[])[],
  classes: readonly string[],
  extra: { loss?: number; probabilities?: Float32Array; labels?: ArrayLike<number> } = {},
): ClassificationMetrics {
  const k = classes.length;
  if (confusion.length !== k || confusion.some((r) => r.length !== k)) throw new RangeError(`classificationMetrics: expected a ${k}x${k} confusion matrix`);
  const support = confusion.map((r) => r.reduce((a, b) => a + b, 0));
  const predicted = classes.map((_, p) => confusion.reduce((a, r) => a + r[p]!, 0));
  const count = support.reduce((a, b) => a + b, 0);
  const correct = confusion.reduce((a, r, i) => a + r[i]!, 0);
  const perClass: ClassMetrics[] = classes.map((name, c) => {
    const tp = confusion[c]![c]!;
    const precision = predicted[c]! > 0 ? tp / predicted[c]! : 0;
    const recall = support[c]! > 0 ? tp / support[c]! : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { class: name, precision, recall, f1, support: support[c]! };
  });
  const present = perClass.filter((m) => m.support > 0);
  const mean = (f: (m: ClassMetrics) => number) => (present.length ? present.reduce((a, m) => a + f(m), 0) / present.length : 0);
  const wmean = (f: (m: ClassMetrics) => number) => (count ? perClass.reduce((a, m) => a + f(m) * m.support, 0) / count : 0);
  const out: ClassificationMetrics = {
    count,
    accuracy: count ? correct / count : 0,
    ...(extra.loss !== undefined ? { loss: extra.loss } : {}),
    perClass,
    macro: { precision: mean((m) => m.precision), recall: mean((m) => m.recall), f1: mean((m) => m.f1) },
    weighted: { precision: wmean((m) => m.precision), recall: wmean((m) => m.recall), f1: wmean((m) => m.f1) },
    confusion: confusion.map((r) => [...r]),
    confusionNormalized: confusion.map((r, t) => r.map((v) => (support[t]! > 0 ? v / support[t]! : 0))),
  };
  if (k > 5 && extra.probabilities && extra.labels) out.top5Accuracy = topKAccuracy(extra.probabilities, extra.labels, k, 5);
  return out;
}

/**
 * Share of rows of `probabilities` [n, numClasses] whose true label is among the `k` highest
 * (ties broken towards the lower class index, as a stable sort would).
 */
export function topKAccuracy(probabilities: Float32Array, labels: ArrayLike<number>, numClasses: number, k: number): number {
  const n = labels.length;
  if (probabilities.length !== n * numClasses) throw new RangeError(`topKAccuracy: ${probabilities.length} probabilities for ${n} labels of ${numClasses} classes`);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    const py = probabilities[i * numClasses + y]!;
    // The label is in the top k when fewer than k classes rank above it.
    let above = 0;
    for (let c = 0; c < numClasses; c++) {
      const p = probabilities[i * numClasses + c]!;
      if (p > py || (p === py && c < y)) above++;
    }
    if (above < k) hits++;
  }
  return n ? hits / n : 0;
}
