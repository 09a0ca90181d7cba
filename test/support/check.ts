/**
 * Assertions shared by the vitest suite and the in-browser suite (no test-runner imports here:
 * the same cases run in Node and in Chromium).
 */
import { MobilegradError } from '../../src/device/errors.js';

export class CheckError extends Error {}

/** Throws unless |got - want| <= atol + rtol * |want| everywhere; names the worst element. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-5): void {
  if (got.length !== want.length) throw new CheckError(`${what}: length ${got.length}, expected ${want.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    const excess = Math.abs(g - w) - (atol + rtol * Math.abs(w));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
      if (Number.isNaN(g)) break;
    }
  }
  if (worst >= 0) {
    throw new CheckError(`${what}: element ${worst} is ${got[worst]}, expected ${want[worst]} (rtol ${rtol}, atol ${atol}, ${got.length} elements)`);
  }
}

export function expectTrue(cond: boolean, what: string): void {
  if (!cond) throw new CheckError(what);
}

/** Seeded float64 random data for references. */
export function randomData(n: number, seed: number, lo = -1, hi = 1): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = lo + (hi - lo) * u;
  }
  return out;
}

/** Random data kept at least `gap` away from the points where an op's derivative jumps. */
export function randomAwayFrom(n: number, seed: number, kinks: number[], gap = 0.05, lo = -4, hi = 4): Float64Array {
  const d = randomData(n, seed, lo, hi);
  for (let i = 0; i < n; i++) for (const k of kinks) if (Math.abs(d[i]! - k) < gap) d[i] = k + (d[i]! >= k ? gap : -gap) * 2;
  return d;
}

export function prod(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Runs `fn` and checks that it throws a MobilegradError whose message names every string of `mustName`. */
export async function expectThrows(fn: () => unknown, what: string, mustName: string | readonly string[]): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof MobilegradError)) throw new CheckError(`${what}: threw ${String(e)}, expected a MobilegradError`);
    for (const m of typeof mustName === 'string' ? [mustName] : mustName) {
      if (!e.message.includes(m)) throw new CheckError(`${what}: message '${e.message}' does not name '${m}'`);
    }
    return;
  }
  throw new CheckError(`${what}: did not throw`);
}
