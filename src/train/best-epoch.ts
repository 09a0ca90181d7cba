/**
 * Best-model selection and early stopping from the run's history.
 * - The saved model is the epoch with the best validation accuracy; among epochs of equal best
 *   accuracy, the one with the lowest validation loss (then the earliest).
 * - `--patience N` stops the run once N epochs in a row have not raised the best validation
 *   accuracy (a later epoch that only ties it, with a lower loss, may still become the saved one).
 */

/** The fields of an epoch's metrics that selection looks at. */
export interface ValidationScore {
  epoch: number;
  valAcc: number;
  valLoss: number;
}

/** True when `a` is a better epoch to save than `b` (any epoch with a validation score beats none). */
export function isImprovement(a: ValidationScore, b: ValidationScore | null): boolean {
  if (!Number.isFinite(a.valAcc)) return false;
  if (!b || !Number.isFinite(b.valAcc)) return true;
  if (a.valAcc !== b.valAcc) return a.valAcc > b.valAcc;
  return a.valLoss < b.valLoss;
}

/** The epoch to save from `history`, or null when no epoch has a validation score. */
export function bestEpoch<T extends ValidationScore>(history: readonly T[]): T | null {
  let best: T | null = null;
  for (const h of history) if (isImprovement(h, best)) best = h;
  return best;
}

/** Epochs run since the best validation accuracy was first reached (0 when the latest epoch reached it). */
export function epochsSinceAccuracyImproved(history: readonly ValidationScore[]): number {
  let first: ValidationScore | null = null;
  for (const h of history) if (Number.isFinite(h.valAcc) && (!first || h.valAcc > first.valAcc)) first = h;
  if (!first) return 0;
  return history[history.length - 1]!.epoch - first.epoch;
}

/** True when `patience` epochs in a row have not raised the best validation accuracy (patience 0: never). */
export function shouldStopEarly(history: readonly ValidationScore[], patience: number): boolean {
  return patience > 0 && history.some((h) => Number.isFinite(h.valAcc)) && epochsSinceAccuracyImproved(history) >= patience;
}
