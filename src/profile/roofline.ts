/**
 * The adapter's measured ceilings, for "% of roofline": f32 FMA throughput (register-only vec4
 * loop, 8 independent accumulators) and streaming bandwidth (a vec4 shader copy). Measured once per
 * device with a few short runs, best of three: a ceiling, not a typical value.
 */
import source from '../../shaders/roofline.wgsl';
import { getDevice, type Device } from '../device/device.js';
import { defineKernel, gridFor } from '../kernel/define-kernel.js';
import { runKernel } from '../kernel/run-kernel.js';
import { Tensor } from '../tensor/tensor.js';

/** Measured ceilings of the current adapter. */
export interface Roofline {
  /** f32 FMA throughput, GFLOP/s (a multiply-add counts 2). */
  gflops: number;
  /** Streaming copy bandwidth (bytes read + written), GB/s. */
  gbps: number;
}

const FMA_ITERS = 256; // per invocation; 8 vec4 FMAs each = 64 FLOP x 2

const fmaKernel = defineKernel({
  name: 'roofline_fma',
  source,
  entry: 'peak_fma',
  inputs: [],
  outputs: ['fma_out'],
  uniforms: ['iters', 'n'],
  workgroups: (u) => [Math.ceil(u.n! / 64), 1, 1],
  cost: (u) => ({ flops: u.n! * u.iters! * 8 * 4 * 2, bytes: u.n! * 16 }),
});

const copyKernel = defineKernel({
  name: 'roofline_copy',
  source,
  entry: 'copy',
  inputs: ['src'],
  outputs: [],
  inouts: ['dst'],
  uniforms: ['n4'],
  workgroups: (u) => gridFor(Math.ceil(u.n4! / (256 * 8))),
  cost: (u) => ({ flops: 0, bytes: u.n4! * 32 }),
});

const cache = new WeakMap<Device, Roofline>();

async function timeIt(run: () => void): Promise<number> {
  const dev = getDevice();
  await dev.sync();
  const t0 = performance.now();
  run();
  await dev.sync();
  return (performance.now() - t0) / 1000;
}

/** Measures (once per device, then cached) the FMA and bandwidth ceilings; takes a fraction of a second. */
export async function measureRoofline(): Promise<Roofline> {
  const dev = getDevice();
  const hit = cache.get(dev);
  if (hit) return hit;
  // FMA: enough invocations to fill every core several times over.
  const n = 64 * 256;
  const fmaFlops = n * FMA_ITERS * 8 * 4 * 2;
  let bestFma = Infinity;
  for (let r = 0; r < 4; r++) {
    const s = await timeIt(() => runKernel(fmaKernel, {}, { fma_out: { shape: [n * 4] } }, { iters: FMA_ITERS, n }).fma_out!.release());
    if (r > 0) bestFma = Math.min(bestFma, s); // the first run compiles
  }
  // Bandwidth: 16 MiB copied (more than CPU caches hold), twice within one submit.
  const elems = 4 * 2 ** 20;
  const src = new Tensor([elems], 'f32');
  const dst = new Tensor([elems], 'f32');
  const reps = 2;
  let bestCopy = Infinity;
  for (let r = 0; r < 4; r++) {
    const s = await timeIt(() => {
      for (let i = 0; i < reps; i++) runKernel(copyKernel, { src, dst }, {}, { n4: elems / 4 });
    });
    if (r > 0) bestCopy = Math.min(bestCopy, s / reps);
  }
  src.release();
  dst.release();
  const roof = { gflops: fmaFlops / bestFma / 1e9, gbps: (elems * 8) / bestCopy / 1e9 };
  cache.set(dev, roof);
  return roof;
}
