/** Tick positions for a chart axis. */
export interface Ticks {
  min: number;
  max: number;
  step: number;
  values: number[];
}

/** A "nice" step (1, 2 or 5 times a power of ten) near `range / target`. */
export function niceStep(range: number, target: number): number {
  const raw = range / Math.max(1, target);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/** Ticks covering [lo, hi], expanded outwards to whole steps; `integer` forces a step of at least 1. */
export function niceTicks(lo: number, hi: number, target = 5, integer = false): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) { lo = 0; hi = 1; }
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) { hi = lo + (integer ? 1 : Math.abs(lo) * 0.1 || 1); }
  let step = niceStep(hi - lo, target);
  if (integer) step = Math.max(1, Math.round(step));
  const min = Math.floor(lo / step + 1e-9) * step, max = Math.ceil(hi / step - 1e-9) * step;
  const values: number[] = [];
  for (let v = min; v <= max + step * 1e-6; v += step) values.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { min, max, step, values };
}

/** A tick label with just enough decimals for the step. */
export function formatTick(v: number, step: number): string {
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  return v.toFixed(decimals);
}
