/**
 * CPU references for the int8 kernels: exact integer arithmetic, and float32 steps emulated with
 * Math.fround, so results are compared bit for bit (docs/quantization.md gives the arithmetic).
 * No test-runner imports: the Chromium suite uses this too.
 */

/** Round half to even, as WGSL's round() and ONNX's QuantizeLinear do. */
export function roundEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** clamp(roundEven(f32(acc) * mult) + zp, lo, 127), then the table when there is one. */
export function requantRef(acc: number, mult: number, zp: number, lo: number, table?: ArrayLike<number>): number {
  const q = clamp(roundEven(Math.fround(Math.fround(acc) * Math.fround(mult))) + zp, lo, 127);
  return table ? table[q + 128]! : q;
}

/** Seeded integers in [lo, hi], with the extremes planted at the start (the corners of int8). */
export function randomInts(n: number, seed: number, lo: number, hi: number): Int32Array {
  let s = seed >>> 0;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9 + i) >>> 0;
    s = (s ^ (s >>> 13)) >>> 0;
    out[i] = lo + (s % (hi - lo + 1));
  }
  if (n > 0) out[0] = lo;
  if (n > 1) out[1] = hi;
  return out;
}

/** Seeded f32 values in [lo, hi). */
export function randomFloats(n: number, seed: number, lo: number, hi: number): Float32Array {
  const ints = randomInts(n + 2, seed, 0, 1_000_000);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + ((hi - lo) * ints[i + 2]!) / 1_000_001;
  return out;
}

export interface RequantRef {
  bias: ArrayLike<number>;
  mult: ArrayLike<number>;
  table?: ArrayLike<number>;
  zp: number;
  lo: number;
}

/** a [m, k], w [n, k]: int8 out [m, n] (or float with floatOut); residual r [m, n] with zr, rmult. */
export function gemmRef(a: ArrayLike<number>, w: ArrayLike<number>, m: number, k: number, n: number, r: RequantRef, opt: { floatOut?: boolean; res?: { x: ArrayLike<number>; zp: number; mult: number } } = {}) {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let acc = r.bias[j]!;
      for (let q = 0; q < k; q++) acc += a[i * k + q]! * w[j * k + q]!;
      if (opt.floatOut) out[i * n + j] = Math.fround(Math.fround(acc) * Math.fround(r.mult[j]!));
      else if (opt.res) {
        // float32 as the kernel writes it (two products, one sum); a compiler that fuses a
        // multiply-add rounds once less, so the GPU may differ by one unit (documented).
        const f = Math.fround;
        const v = f(f(f(acc) * f(r.mult[j]!)) + f(f(opt.res.x[i * n + j]! - opt.res.zp) * f(opt.res.mult)));
        const q = clamp(roundEven(v) + r.zp, r.lo, 127);
        out[i * n + j] = r.table ? r.table[q + 128]! : q;
      } else out[i * n + j] = requantRef(acc, r.mult[j]!, r.zp, r.lo, r.table);
    }
  return out;
}

/** Depthwise (w [k, k, c]) or the 4-channel stem (w [k, k, cout, 4]) on x [n, h, w, cin], padding (k-1)/2 with zx. */
export function convRef(x: ArrayLike<number>, shape: [number, number, number, number], w: ArrayLike<number>, k: number, stride: number, cout: number, depthwise: boolean, zx: number, r: RequantRef) {
  const [n, h, wd, cin] = shape;
  const pad = (k - 1) / 2;
  const ho = Math.floor((h + 2 * pad - k) / stride) + 1;
  const wo = Math.floor((wd + 2 * pad - k) / stride) + 1;
  const out = new Int32Array(n * ho * wo * cout);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < ho; oy++)
      for (let ox = 0; ox < wo; ox++)
        for (let co = 0; co < cout; co++) {
          let acc = r.bias[co]!;
          for (let ky = 0; ky < k; ky++)
            for (let kx = 0; kx < k; kx++) {
              const iy = oy * stride - pad + ky;
              const ix = ox * stride - pad + kx;
              const inside = iy >= 0 && iy < h && ix >= 0 && ix < wd;
              const xv = (ci: number) => (inside ? x[((b * h + iy) * wd + ix) * cin + ci]! : zx);
              if (depthwise) acc += (xv(co) - zx) * w[(ky * k + kx) * cout + co]!;
              else for (let ci = 0; ci < cin; ci++) acc += xv(ci) * w[((ky * k + kx) * cout + co) * 4 + ci]!;
            }
          out[((b * ho + oy) * wo + ox) * cout + co] = requantRef(acc, r.mult[co]!, r.zp, r.lo, r.table);
        }
  return { out, ho, wo };
}

export function poolRef(x: ArrayLike<number>, n: number, hw: number, c: number, zx: number, zp: number, mult: number): Int32Array {
  const out = new Int32Array(n * c);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let i = 0; i < hw; i++) s += x[(b * hw + i) * c + ch]! - zx;
      out[b * c + ch] = requantRef(s, mult, zp, -128);
    }
  return out;
}

export function seScaleRef(x: ArrayLike<number>, g: ArrayLike<number>, n: number, hw: number, c: number, q: { zx: number; zg: number; zp: number; mult: number }): Int32Array {
  const out = new Int32Array(n * hw * c);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < hw; i++)
      for (let ch = 0; ch < c; ch++) {
        const idx = (b * hw + i) * c + ch;
        out[idx] = requantRef((x[idx]! - q.zx) * (g[b * c + ch]! - q.zg), q.mult, q.zp, -128);
      }
  return out;
}
