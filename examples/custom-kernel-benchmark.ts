/**
 * A custom kernel benchmarked against the built-in one it would replace: h-swish with four
 * elements per invocation (vec4 loads and stores) against the built-in activation kernel (one
 * element per invocation, the activation picked by a uniform). Checked against the built-in first
 * (forward and gradient), then both timed forward and backward at MobileNetV3-Small's largest
 * h-swish shapes.
 *
 *   npm run example -- custom-kernel-benchmark
 */
import * as mg from 'mobilegrad';
import { SMOKE } from './lib/demo-data.js';

// Pool buffers are multiples of 16 bytes, so the last vec4 may run past n inside the buffer:
// it reads slack and writes slack, never another tensor.
const common = /* wgsl */ `
struct P { n4: u32 }
fn hswish(v: vec4f) -> vec4f { return v * clamp(v + 3.0, vec4f(0.0), vec4f(6.0)) / 6.0; }
fn dhswish(v: vec4f) -> vec4f { return select(select((2.0 * v + 3.0) / 6.0, vec4f(1.0), v > vec4f(3.0)), vec4f(0.0), v < vec4f(-3.0)); }
fn index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 { return (wid.y * nwg.x + wid.x) * 256u + lid; }
`;
const forward = common + /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n4) { y[i] = hswish(x[i]); }
}`;
const backward = common + /* wgsl */ `
@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> dy: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dx: array<vec4f>;
@group(0) @binding(3) var<uniform> p: P;
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = index(wid, nwg, lid);
  if (i < p.n4) { dx[i] = dy[i] * dhswish(x[i]); }
}`;

await mg.init();
const quads = (n: number) => Math.ceil(n / 4);
const launch = {
  uniforms: ({ output }: mg.OpContext<mg.OpAttrs>) => ({ n4: quads(output.size) }),
  workgroups: (u: mg.Uniforms) => mg.grid1d(u.n4!, 256),
};
const hswish4 = mg.defineOp({
  name: 'hswish_vec4',
  inputs: ['x'],
  forward: { source: forward, ...launch, cost: (u) => ({ flops: 4 * u.n4!, bytes: 2 * 16 * u.n4! }) },
  backward: { source: backward, ...launch, cost: (u) => ({ flops: 4 * u.n4!, bytes: 3 * 16 * u.n4! }) },
});

// Correct first: the same values as the built-in (awkward size: not a multiple of 4), and gradcheck.
const x = mg.randn([3, 7, 5, 13], { seed: 1, std: 3 });
const [mine, builtin] = [Array.from(await hswish4(x).toArray()), Array.from(await mg.hswish(x).toArray())];
const worst = mine.reduce((w, v, i) => Math.max(w, Math.abs(v - builtin[i]!)), 0);
console.log(`hswish_vec4 vs built-in: largest difference ${worst} over ${x.size} values`);
if (worst > 1e-6) throw new Error('hswish_vec4 disagrees with the built-in h-swish');
await hswish4.gradcheck([x]);
x.release();

// MobileNetV3-Small's two largest h-swish inputs at batch 32, 224 px (NHWC).
const shapes = SMOKE ? [[2, 16, 16, 16]] : [[32, 112, 112, 16], [32, 28, 28, 96]];
console.log(`\n${'shape'.padEnd(18)} ${'pass'.padEnd(4)} ${'built-in ms'.padStart(12)} ${'vec4 ms'.padStart(9)} ${'speed-up'.padStart(9)} ${'vec4 GB/s'.padStart(10)}`);
for (const s of shapes) {
  const base = await mg.benchmarkOp((t: mg.Tensor) => mg.hswish(t), [[s]], { name: 'built-in' });
  const fast = await mg.benchmarkOp(hswish4, [[s]]);
  for (let i = 0; i < base.length; i++) {
    const [b, f] = [base[i]!, fast[i]!];
    console.log(`${f.label.padEnd(18)} ${f.pass.padEnd(4)} ${b.ms.toFixed(3).padStart(12)} ${f.ms.toFixed(3).padStart(9)} ${(b.ms / f.ms).toFixed(2).padStart(8)}x ${f.gbps!.toFixed(2).padStart(10)}`);
  }
}
