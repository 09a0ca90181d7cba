/** Learning-rate schedule of the trainer: linear warm-up, then cosine decay to a floor. */

export interface ScheduleOptions {
  baseLr: number;
  totalSteps: number;
  /** Steps of linear warm-up from baseLr / 10 (default: one epoch's worth, at most 10 % of the run). */
  warmupSteps: number;
  /** Learning rate at the end, as a fraction of baseLr (default 0.01). */
  finalFraction?: number;
}

/** Learning rate for `step` (0-based). */
export function learningRateAt(step: number, o: ScheduleOptions): number {
  const floor = o.baseLr * (o.finalFraction ?? 0.01);
  if (step < o.warmupSteps) return o.baseLr * (0.1 + (0.9 * (step + 1)) / o.warmupSteps);
  const t = Math.min(1, (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps));
  return floor + (o.baseLr - floor) * 0.5 * (1 + Math.cos(Math.PI * t));
}
