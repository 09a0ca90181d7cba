/**
 * Finite-difference check of a backward rule, for built-in ops and researchers' own ops alike.
 * The output is projected on a fixed random vector r, L = sum(f(x) * r); the analytic gradient of L
 * (backward seeded with r) is compared with central differences (L(x+h) - L(x-h)) / 2h computed in
 * float64 from float32 outputs, at every element of small inputs and a seeded sample of large ones.
 */
import { MobilegradError } from '../device/errors.js';
import { tensor } from '../tensor/create.js';
import { Rng } from '../tensor/random.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { noGrad } from './graph.js';

export interface GradcheckOptions {
  /** Step of the central difference (default 1e-2: float32 outputs need a large step). */
  eps?: number;
  /** Largest relative error accepted (default 2e-2). */
  tolerance?: number;
  /** Absolute floor of the error's denominator (default 1e-2 of the largest gradient). */
  atol?: number;
  /** Most elements checked per input (default 48). */
  maxElements?: number;
  seed?: number;
  /** Throw when the check fails (default true). */
  throwOnFailure?: boolean;
  /** Which inputs to check (default all). */
  check?: boolean[];
}

export interface GradcheckReport {
  ok: boolean;
  /** Worst relative error per input (NaN for inputs not checked). */
  worst: number[];
  /** Elements compared per input. */
  checked: number[];
  details: string[];
}

async function projected(fn: (...xs: Tensor[]) => Tensor, xs: Tensor[], r: Float64Array): Promise<number> {
  const y = tidy(() => noGrad(() => fn(...xs)));
  const v = await y.toArray();
  y.release();
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * r[i]!;
  return s;
}

/** Compares `fn`'s backward with finite differences at `inputs`; throws a detailed error on mismatch. */
export async function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): Promise<GradcheckReport> {
  const eps = options.eps ?? 1e-2;
  const tol = options.tolerance ?? 2e-2;
  const maxEl = options.maxElements ?? 48;
  const rng = new Rng(options.seed ?? 1234);
  const host = await Promise.all(inputs.map(async (x) => Float32Array.from(await x.toArray())));
  // Non-f32 inputs (labels, indices) pass through as they are: not differentiated, not perturbed.
  const leaves = inputs.map((x, k) => (x.dtype !== 'f32' ? x : tensor(host[k]!, x.shape, { requiresGrad: options.check ? options.check[k] !== false : true })));
  const y = fn(...leaves);
  const r = new Float64Array(y.size);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal();
  const seedT = tensor(Float32Array.from(r), y.shape);
  await y.backward(seedT);
  seedT.release();
  y.release();
  const analytic = await Promise.all(leaves.map(async (l) => (l.grad ? Float64Array.from(await l.grad.toArray()) : null)));
  const report: GradcheckReport = { ok: true, worst: [], checked: [], details: [] };
  for (let k = 0; k < inputs.length; k++) {
    const ana = analytic[k];
    if (inputs[k]!.dtype !== 'f32' || !leaves[k]!.requiresGrad) {
      report.worst.push(NaN);
      report.checked.push(0);
      continue;
    }
    if (!ana) throw new MobilegradError(`gradcheck: input ${k} got no gradient: the op's backward returned none for it`);
    const n = host[k]!.length;
    const idx = n <= maxEl ? [...Array(n).keys()] : Array.from({ length: maxEl }, () => rng.int(n));
    let maxAbs = 0;
    for (const v of ana) maxAbs = Math.max(maxAbs, Math.abs(v));
    const floor = options.atol ?? Math.max(1e-2 * maxAbs, 1e-4);
    let worst = 0;
    for (const i of idx) {
      const orig = host[k]![i]!;
      const evalAt = async (v: number) => {
        const data = Float32Array.from(host[k]!);
        data[i] = v;
        const xs = inputs.map((x, j) => (j === k ? tensor(data, x.shape) : leaves[j]!));
        const out = await projected(fn, xs, r);
        xs[k]!.release();
        return out;
      };
      const num = ((await evalAt(orig + eps)) - (await evalAt(orig - eps))) / (2 * eps);
      const err = Math.abs(num - ana[i]!) / Math.max(Math.abs(num), Math.abs(ana[i]!), floor);
      if (err > worst) worst = err;
      if (err > tol && report.details.length < 8) report.details.push(`input ${k} [${inputs[k]!.shape.join(',')}] element ${i}: analytic ${ana[i]!.toExponential(4)}, numeric ${num.toExponential(4)}`);
    }
    report.worst.push(worst);
    report.checked.push(idx.length);
    if (worst > tol) report.ok = false;
  }
  leaves.forEach((l, k) => {
    if (l === inputs[k]) return; // the caller's own tensor
    l.grad?.release();
    l.release();
  });
  if (!report.ok && options.throwOnFailure !== false) {
    throw new MobilegradError(`gradcheck failed (worst relative error per input: ${report.worst.map((w) => w.toExponential(2)).join(', ')}; tolerance ${tol}): ${report.details.join('; ')}`);
  }
  return report;
}
