/**
 * Best-model selection and early stopping from the run's history: the saved model is the epoch
 * with the best validation accuracy (ties go to the lower validation loss, then to the earlier
 * epoch), and `--patience N` stops a run once N epochs in a row have not improved on it.
 */

/** The fields of an epoch's metrics that selection looks at. */
export interface ValidationScore {
  epoch: number;
  valAcc: number;
  valLoss: number;
}

/** True when `a` is a better epoch than `b` (any epoch with a validation score beats none). */
export function isImprovement(a: ValidationScore, b: ValidationScore | null): boolean {
  if (!Number.isFinite(a.valAcc)) return false;
  if (!b || !Number.isFinite(b.valAcc)) return true;
  if (a.valAcc !== b.valAcc) return a.valAcc > b.valAcc;
  return a.valLoss < b.valLoss;
}

/** The best epoch of `history`, or null when no epoch has a validation score. */
export function bestEpoch<T extends ValidationScore>(history: readonly T[]): T | null {
  let best: T | null = null;
  for (const h of history) if (isImprovement(h, best)) best = h;
  return best;
}

/** Epochs run since the best one (0 when the latest epoch is the best). */
export function epochsSinceBest(history: readonly ValidationScore[]): number {
  const best = bestEpoch(history);
  if (!best || !history.length) return 0;
  return history[history.length - 1]!.epoch - best.epoch;
}

/** True when `patience` epochs in a row have not improved on the best (patience 0: never). */
export function shouldStopEarly(history: readonly ValidationScore[], patience: number): boolean {
  return patience > 0 && bestEpoch(history) !== null && epochsSinceBest(history) >= patience;
}
