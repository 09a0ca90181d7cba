/** Softmax cross-entropy with class weights (PyTorch's CrossEntropyLoss(weight=...)): float64 references and gradcheck. */
import * as mg from '../../src/index.js';
import { cases } from '../support/cases.js';
import { expectClose, expectTrue, randomData } from '../support/check.js';

/** Rounds to float32, as the tensors hold the data. */
const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

function labelsFor(n: number, k: number, seed: number): Int32Array {
  return Int32Array.from(randomData(n, seed, 0, k), (v) => Math.min(k - 1, Math.floor(v)));
}

/**
 * float64 reference of PyTorch's CrossEntropyLoss(weight=w, label_smoothing=eps), mean reduction:
 * [sum_r (1-eps) w[y_r] (-logp[r,y_r]) + eps/k sum_r sum_j w[j] (-logp[r,j])] / sum_r w[y_r], and dL/dlogits.
 */
export function refWeightedCrossEntropy(x: Float64Array, labels: Int32Array, w: Float64Array, n: number, k: number, eps: number): { loss: number; grad: Float64Array } {
  let num = 0;
  let den = 0;
  const sw = w.reduce((a, b) => a + b, 0);
  const grad = new Float64Array(n * k);
  const p = new Float64Array(n * k);
  for (let r = 0; r < n; r++) {
    const row = x.subarray(r * k, (r + 1) * k);
    const m = Math.max(...row);
    let se = 0;
    for (const v of row) se += Math.exp(v - m);
    const lse = m + Math.log(se);
    const y = labels[r]!;
    num += (1 - eps) * w[y]! * (lse - row[y]!);
    for (let j = 0; j < k; j++) {
      num += (eps / k) * w[j]! * (lse - row[j]!);
      p[r * k + j] = Math.exp(row[j]! - lse);
    }
    den += w[y]!;
  }
  for (let r = 0; r < n; r++) {
    const y = labels[r]!;
    for (let j = 0; j < k; j++) {
      const pj = p[r * k + j]!;
      grad[r * k + j] = ((1 - eps) * w[y]! * (pj - (j === y ? 1 : 0)) + (eps / k) * (sw * pj - w[j]!)) / den;
    }
  }
  return { loss: num / den, grad };
}

const shapes: [number, number][] = [[1, 3], [7, 13], [13, 7], [5, 1000], [33, 65], [70, 2]];

export default cases('weighted loss', [
  ...[0, 0.1].flatMap((eps) =>
    shapes.map(([n, k], si): [string, () => Promise<void>] => [
      `softmaxCrossEntropy with classWeights [${n}, ${k}] smoothing ${eps}: value and gradient vs float64`,
      async () => {
        const x = f32(randomData(n * k, 131 + si, -3, 3));
        const labels = labelsFor(n, k, 177 + si);
        const w = f32(randomData(k, 991 + si, 0.2, 3));
        const logits = mg.tensor(x, [n, k], { requiresGrad: true });
        const lab = mg.tensor(labels, [n]);
        const wt = mg.tensor(w, [k]);
        const want = refWeightedCrossEntropy(x, labels, w, n, k, eps);
        const loss = mg.softmaxCrossEntropy(logits, lab, { labelSmoothing: eps, classWeights: wt });
        expectTrue(loss.shape.length === 0, `loss is a scalar, got [${loss.shape}]`);
        expectClose([await loss.item()], [want.loss], 'loss', 1e-5, 1e-6);
        await loss.backward();
        expectClose(await logits.grad!.toArray(), want.grad, 'dlogits', 1e-4, 1e-7);
        [logits.grad!, logits, lab, wt, loss].forEach((t) => t.release());
      },
    ]),
  ),
  [
    'softmaxCrossEntropy with classWeights: gradcheck, with and without smoothing',
    async () => {
      for (const [n, k, eps] of [[3, 7, 0], [5, 3, 0.2], [1, 13, 0.1], [9, 4, 0.05]] as const) {
        const x = mg.tensor(randomData(n * k, 15 + k, -2, 2), [n, k]);
        const lab = mg.tensor(labelsFor(n, k, 19 + n), [n]);
        const wt = mg.tensor(randomData(k, 23 + n, 0.3, 2.5), [k]);
        await mg.gradcheck((z) => mg.softmaxCrossEntropy(z, lab, { labelSmoothing: eps, classWeights: wt }), [x]);
        [x, lab, wt].forEach((t) => t.release());
      }
    },
  ],
  [
    'softmaxCrossEntropy: equal class weights give the unweighted loss; a bad label gives NaN; wrong weight shapes throw',
    async () => {
      const n = 11, k = 6;
      const x = f32(randomData(n * k, 5, -2, 2));
      const logits = mg.tensor(x, [n, k]);
      const lab = mg.tensor(labelsFor(n, k, 6), [n]);
      const same = mg.tensor(new Float32Array(k).fill(2.5), [k]);
      const a = mg.softmaxCrossEntropy(logits, lab, { labelSmoothing: 0.1, classWeights: same });
      const b = mg.softmaxCrossEntropy(logits, lab, { labelSmoothing: 0.1 });
      expectClose([await a.item()], [await b.item()], 'equal weights vs none', 1e-6, 1e-6);
      const bad = mg.tensor(new Int32Array([0, 7, 1, 2, 3, 4, 5, 0, 1, 2, 3]), [n]);
      const nan = mg.softmaxCrossEntropy(logits, bad, { classWeights: same });
      expectTrue(Number.isNaN(await nan.item()), 'NaN loss for label 7 of K = 6');
      const short = mg.tensor(new Float32Array(k - 1).fill(1), [k - 1]);
      let threw = false;
      try {
        mg.softmaxCrossEntropy(logits, lab, { classWeights: short });
      } catch (e) {
        threw = e instanceof mg.MobilegradError;
      }
      expectTrue(threw, 'weights of the wrong length throw MobilegradError');
      [logits, lab, same, a, b, bad, nan, short].forEach((t) => t.release());
    },
  ],
]);
