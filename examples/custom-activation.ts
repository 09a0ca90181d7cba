/**
 * A custom activation written in WGSL with a WGSL backward: swish (SiLU), x * sigmoid(x), the
 * function h-swish was designed to approximate. Gradchecked, swapped into MobileNetV3-Small through
 * the config table wherever the paper uses h-swish, trained on the demo data next to the original.
 *
 *   npm run example -- custom-activation
 */
import * as mg from 'mobilegrad';
import { accuracy, batches, loadDemo, SMOKE } from './lib/demo-data.js';

// One invocation per element; the grid may be 2-D for large tensors, so rebuild the linear id.
const header = /* wgsl */ `
struct P { n: u32 }
fn sigmoid(v: f32) -> f32 { return 1.0 / (1.0 + exp(-v)); }
fn index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 { return (wid.y * nwg.x + wid.x) * 256u + lid; }
`;
const forward = header + /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n) { y[i] = x[i] * sigmoid(x[i]); }
}`;
// d/dx x*s(x) = s + x*s*(1-s). Bindings: x (the input), dy (the output's gradient), dx (x's gradient).
const backward = header + /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let s = sigmoid(x[i]);
  dx[i] = dy[i] * (s + x[i] * s * (1.0 - s));
}`;

await mg.init();
const swish = mg.defineOp({
  name: 'swish',
  inputs: ['x'],
  forward: { source: forward, cost: (u) => ({ flops: 5 * u.n!, bytes: 8 * u.n! }) },
  backward: { source: backward, cost: (u) => ({ flops: 8 * u.n!, bytes: 12 * u.n! }) },
});
const probe = mg.randn([3, 7, 9], { seed: 1, std: 2 });
const check = await swish.gradcheck([probe]);
console.log(`swish gradcheck: worst relative error ${check.worst[0]!.toExponential(2)} over ${check.checked[0]} elements`);
probe.release();

const size = 32;
const epochs = SMOKE ? 1 : 3;
const batchSize = SMOKE ? 16 : 32;
const { train, test } = await loadDemo(size);

async function trainAndTest(activation: mg.models.BlockActivation) {
  mg.seed(0); // the same initial weights and data order for both
  const blocks = mg.models.MOBILENET_V3_SMALL.map((b) => (b.activation === 'hswish' ? { ...b, activation } : b));
  const model = mg.models.mobilenetV3Small({ numClasses: train.classes.length, blocks, bnMomentum: 0.1 });
  const opt = new mg.AdamW(model.parameters(), { lr: 2e-3 });
  let t0 = 0;
  let images = 0;
  for (let e = 0; e < epochs; e++) {
    for (const [x, y] of batches(train, batchSize, e)) {
      mg.tidy(() => {
        const loss = mg.softmaxCrossEntropy(model.call(x), y);
        void loss.backward();
        opt.step();
        opt.zeroGrad();
      });
      x.release();
      y.release();
      // Speed from the second step on: the first one compiles the pipelines.
      if (t0 === 0) {
        await mg.sync();
        t0 = performance.now();
      } else images += batchSize;
    }
  }
  await mg.sync();
  const imagesPerSecond = images / ((performance.now() - t0) / 1000);
  const acc = await accuracy(model, test);
  model.release();
  opt.dispose();
  return { acc, imagesPerSecond };
}

const results = [
  ['h-swish (paper)', await trainAndTest('hswish')],
  ['swish (WGSL op)', await trainAndTest({ name: 'swish', apply: (x) => swish(x) })],
] as const;
console.log(`\nMobileNetV3-Small on Fashion-MNIST (${train.count} training images, ${test.count} test, ${size} px, ${epochs} epoch(s)):`);
for (const [name, r] of results) console.log(`  ${name.padEnd(16)} test accuracy ${(100 * r.acc).toFixed(1)} %   ${r.imagesPerSecond.toFixed(0)} training images/s`);
