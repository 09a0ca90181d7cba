/**
 * Steady-state speed of MobileNetV3-Small training and inference on the open device, as
 * `mobilegrad bench` and the end-to-end benchmark (bench/e2e.ts) report it: warm-up steps excluded,
 * the median of the timed steps, JavaScript issue time per step, dispatches and submits per step,
 * peak GPU bytes. Training data here is already on the GPU (a fixed random batch), as in the
 * PyTorch peer; bench/e2e.ts measures the trainer with its data pipeline separately.
 */
import { noGrad } from '../autograd/graph.js';
import { getDevice } from '../device/device.js';
import { mobilenetV3Small, setInferenceFusion, type MobileNetV3Small } from '../models/mobilenet-v3.js';
import { softmaxCrossEntropy } from '../ops/loss.js';
import { AdamW } from '../optim/adam.js';
import { randn, tensor } from '../tensor/create.js';
import { perStepTensor } from '../tensor/per-step.js';
import { Rng, seed as seedGlobal } from '../tensor/random.js';
import { keep, tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { StepRecorder } from './step-recorder.js';

/** What to measure. */
export interface MeasureOptions {
  task: 'train' | 'infer';
  imageSize: number;
  batchSize: number;
  /** Timed steps (default 5). */
  steps?: number;
  /** Untimed steps first (default 3: the optimizer's state, the recording, one replay). */
  warmup?: number;
  /** Record the step once and replay it (default true). */
  replay?: boolean;
  /** Classes of the classifier (default 10, as the peers). */
  numClasses?: number;
  /** AdamW updating up to five parameters per dispatch (default true). */
  multiTensor?: boolean;
  /** Inference: Conv, BatchNorm, activation (and residual) in one kernel (default true; src/ops/conv-bn-act.ts). */
  fuse?: boolean;
  /**
   * Issue step s before awaiting step s-1's output, as the trainer does (src/train/loop.ts), so the
   * GPU does not idle while JavaScript reads a result and issues the next step; a step's time is
   * then the interval between consecutive results. Default: true for training, false for inference
   * (batch-1 latency is a request's own round trip).
   */
  pipeline?: boolean;
}

/** One configuration's steady-state numbers. */
export interface Measurement {
  task: 'train' | 'infer';
  image_size: number;
  batch_size: number;
  replay: boolean;
  /** Inference ran the fused Conv-BN-activation kernels. */
  fused: boolean;
  /** Steps were pipelined (see {@link MeasureOptions.pipeline}): ms_per_step is the interval between results. */
  pipelined: boolean;
  steps: number;
  warmup: number;
  /** Median wall time of a step, from issuing it to its loss (or logits) on the CPU. */
  ms_per_step: number;
  images_per_second: number;
  /** The fastest timed step (on a shared machine the least disturbed one). */
  best_ms_per_step: number;
  /** Median JavaScript time spent issuing one step, its submit included (the wait for the GPU excluded). */
  js_ms_per_step: number;
  /**
   * The two parts of `js_ms_per_step` (medians): encoding (our JavaScript and the WebGPU calls it
   * makes) and the submit (inside it, Dawn translates the commands for the driver, and a CPU
   * driver such as lavapipe records them: native work on this thread, not mobilegrad's).
   */
  js_encode_ms_per_step: number;
  js_submit_ms_per_step: number;
  dispatches_per_step: number;
  submits_per_step: number;
  /** Highest GPU bytes the buffer pool held during the measurement, plus the recording's own buffers. */
  peak_gpu_bytes: number;
  /** Bytes reserved for the recorded step (its static plan); 0 when eager. */
  plan_bytes: number;
  /** Every timed step, ms. */
  samples_ms: number[];
  js_samples_ms: number[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function releaseModel(model: MobileNetV3Small): void {
  for (const [, t] of model.stateTensors()) t.release();
}

/** Measures one configuration; frees everything it made before returning. */
export async function measure(o: MeasureOptions): Promise<Measurement> {
  const steps = o.steps ?? 5;
  const warmup = o.warmup ?? 3;
  const replay = o.replay ?? true;
  const n = o.batchSize;
  const size = o.imageSize;
  const device = getDevice();
  const fuse = o.fuse ?? true;
  const prevFusion = setInferenceFusion(fuse);
  await device.sync();
  device.pool.trim();
  device.pool.resetPeak();
  seedGlobal(1);
  const model = mobilenetV3Small({ numClasses: o.numClasses ?? 10 });
  const recorder = new StepRecorder(replay);
  const disposers: (() => void)[] = [() => recorder.dispose(), () => releaseModel(model)];
  let step: () => Tensor[];
  if (o.task === 'train') {
    model.train();
    const opt = new AdamW(model.parameters(), { lr: 1e-3, multiTensor: o.multiTensor ?? true });
    const x = keep(randn([n, size, size, 3], { seed: 2 }));
    const rng = new Rng(3);
    const y = keep(tensor(Int32Array.from({ length: n }, () => Math.floor(rng.next() * model.numClasses)), [n]));
    disposers.push(() => opt.dispose(), () => x.release(), () => y.release());
    step = () =>
      tidy(() => {
        const logits = model.call(x);
        const loss = softmaxCrossEntropy(logits, y);
        void loss.backward();
        opt.step();
        opt.zeroGrad();
        return [keep(loss)];
      });
  } else {
    model.eval();
    // A new image batch uploaded for every call, as a server would.
    const rng = new Rng(4);
    const pixels = Float32Array.from({ length: n * size * size * 3 }, () => rng.next() * 2 - 1);
    step = () => tidy(() => noGrad(() => [keep(model.call(perStepTensor([n, size, size, 3], 'f32', () => pixels)))]));
  }
  const wall: number[] = [];
  const js: number[] = [];
  const encode: number[] = [];
  const submit: number[] = [];
  let dispatches = 0;
  let submits = 0;
  const pipeline = o.pipeline ?? o.task === 'train';
  try {
    // With pipelining, step i's wall time is from step i-1's result to step i's.
    let pending: { i: number; t0: number; out: Tensor; read: Promise<unknown> } | null = null;
    let lastDone = 0;
    const finish = async (f: NonNullable<typeof pending>) => {
      try {
        await f.read;
      } finally {
        f.out.release();
      }
      const t2 = performance.now();
      if (f.i >= warmup) wall.push(t2 - (pipeline ? lastDone : f.t0));
      lastDone = t2;
    };
    try {
      for (let i = 0; i < warmup + steps; i++) {
        const c0 = { ...device.dispatcher.counters };
        const t0 = performance.now();
        const [out] = recorder.run(`${o.task}|${n}|${size}`, step);
        const te = performance.now();
        // Issuing ends with the submit (Dawn builds the Vulkan command buffer there, on this thread).
        device.dispatcher.flush();
        const t1 = performance.now();
        // toArray queues the copy of this step's output before anything later can overwrite it.
        const issued = { i, t0, out: out!, read: out!.toArray() };
        issued.read.catch(() => {});
        if (i >= warmup) {
          js.push(t1 - t0);
          encode.push(te - t0);
          submit.push(t1 - te);
          dispatches += device.dispatcher.counters.dispatches - c0.dispatches;
          submits += device.dispatcher.counters.submits - c0.submits;
        }
        if (!pipeline) {
          await finish(issued);
          continue;
        }
        const previous = pending;
        pending = issued;
        if (previous) await finish(previous);
      }
      const last = pending;
      pending = null;
      if (last) await finish(last);
    } finally {
      if (pending) {
        await pending.read.catch(() => {});
        pending.out.release();
      }
    }
    const stats = device.pool.stats();
    const ms = median(wall);
    return {
      task: o.task, image_size: size, batch_size: n, replay: recorder.recorded, fused: o.task === 'infer' && fuse, pipelined: pipeline, steps, warmup,
      ms_per_step: ms, images_per_second: (n / ms) * 1000, best_ms_per_step: Math.min(...wall), js_ms_per_step: median(js),
      js_encode_ms_per_step: median(encode), js_submit_ms_per_step: median(submit),
      dispatches_per_step: dispatches / steps, submits_per_step: submits / steps,
      peak_gpu_bytes: stats.peakAllocatedBytes + (recorder.recorded ? recorder.stats.reservedBytes - stats.reservedBytes : 0),
      plan_bytes: recorder.stats.reservedBytes,
      samples_ms: wall.map((v) => Number(v.toFixed(3))), js_samples_ms: js.map((v) => Number(v.toFixed(4))),
    };
  } finally {
    setInferenceFusion(prevFusion);
    for (const d of disposers) d();
    await device.sync();
    device.pool.trim();
  }
}
