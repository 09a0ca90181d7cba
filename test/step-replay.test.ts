/**
 * Record/replay of the training step: a replayed step gives the eager step's losses (bit for bit:
 * the same kernels on the same buffers), the schedule and dropout seeds move with it, memory does
 * not grow over replays, a replaced optimizer state re-records, and the trainer's epochs are the
 * same with and without replay.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { mobilenetV3Small } from '../src/models/mobilenet-v3.js';
import { AdamW } from '../src/optim/adam.js';
import { Rng } from '../src/tensor/random.js';
import { randomAugmentParams } from '../src/train/augment-params.js';
import { TrainingRun, type LoopConfig } from '../src/train/loop.js';
import { StepRecorder } from '../src/train/step-recorder.js';
import { setDeferredSplitSums } from '../src/ops/elementwise.js';
import { stepKey, trainStepOn, type StepBatch } from '../src/train/train-step.js';

const SIZE = 32;
const N = 4;
const CLASSES = 3;

beforeAll(async () => {
  await mg.init();
});

/** Deterministic batches: bytes, augmentation parameters and labels for step i. */
function batchAt(i: number): StepBatch {
  const rng = new Rng(1000 + i);
  const bytes = new Uint8Array(N * SIZE * SIZE * 3);
  for (let k = 0; k < bytes.length; k++) bytes[k] = Math.floor(rng.next() * 256);
  return { bytes, params: randomAugmentParams(N, SIZE, 'heavy', rng), labels: Int32Array.from({ length: N }, (_, k) => (i + k) % CLASSES) };
}

interface RunResult {
  losses: number[];
  logits: Float32Array[];
  weights: Float32Array;
  recorder: StepRecorder;
  memory: { allocated: number; live: number }[];
  /** Dispatches of the recorded step (0 without replay). */
  dispatches: number;
}

/**
 * Trains `steps` steps from the same seed, with or without replay. `lrAt` changes the learning
 * rate every step; `reload` (a step index) saves and restores the optimizer state before that step.
 */
async function train(replay: boolean, steps: number, reload = -1): Promise<RunResult> {
  mg.seed(77);
  const model = mobilenetV3Small({ numClasses: CLASSES });
  model.train();
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const recorder = new StepRecorder(replay);
  const holder: StepBatch = { bytes: new Uint8Array(0), params: new Float32Array(0), labels: new Int32Array(0) };
  const res: RunResult = { losses: [], logits: [], weights: new Float32Array(0), recorder, memory: [], dispatches: 0 };
  for (let i = 0; i < steps; i++) {
    if (i === reload) opt.loadStateDict(await opt.stateDict());
    opt.setLearningRate(1e-3 * (1 + 0.5 * Math.sin(i)));
    Object.assign(holder, batchAt(i));
    const [loss, logits] = recorder.run(stepKey(model, N, SIZE, 0.1), () => trainStepOn(model, opt, holder, SIZE, 0.1));
    res.losses.push((await loss!.toArray())[0]!);
    res.logits.push((await logits!.toArray()) as Float32Array);
    loss!.release();
    logits!.release();
    const st = mg.getDevice().pool.stats();
    res.memory.push({ allocated: st.allocatedBytes, live: st.liveBuffers });
  }
  res.weights = (await model.parameters()[0]!.toArray()) as Float32Array;
  res.dispatches = recorder.stats.dispatches;
  recorder.dispose();
  opt.dispose();
  for (const [, t] of model.stateTensors()) t.release();
  return res;
}

describe('recorded training step', () => {
  it('replays with the eager losses, logits and weights, bit for bit, as the learning rate moves', async () => {
    const eager = await train(false, 6);
    const replayed = await train(true, 6);
    expect(eager.recorder.stats.replayed).toBe(0);
    // Step 1 creates the optimizer state (not recordable), step 2 is recorded, 3-6 replayed.
    expect(replayed.recorder.stats.recorded).toBe(1);
    expect(replayed.recorder.stats.replayed).toBe(4);
    expect(replayed.losses).toEqual(eager.losses);
    for (let i = 0; i < 6; i++) expect(replayed.logits[i]).toEqual(eager.logits[i]);
    expect(replayed.weights).toEqual(eager.weights);
    // The losses are not all the same: the replays really trained on new batches.
    expect(new Set(replayed.losses).size).toBe(6);
  });

  it('memory does not grow over replayed steps', async () => {
    const r = await train(true, 8);
    const after = r.memory.slice(2);
    for (const m of after) {
      expect(m.allocated).toBe(after[0]!.allocated);
      expect(m.live).toBe(after[0]!.live);
    }
  });

  it('re-records when the optimizer state is replaced, and still matches the eager run', async () => {
    const eager = await train(false, 6, 4);
    const replayed = await train(true, 6, 4);
    expect(replayed.recorder.stats.recorded).toBe(2);
    expect(replayed.recorder.stats.lastReason).toMatch(/released or replaced/);
    expect(replayed.losses).toEqual(eager.losses);
    expect(replayed.weights).toEqual(eager.weights);
  });

  it('reserved buffers are not handed to other tensors between replays', async () => {
    mg.seed(5);
    const model = mobilenetV3Small({ numClasses: CLASSES });
    const opt = new AdamW(model.parameters(), { lr: 1e-3 });
    const recorder = new StepRecorder(true);
    const holder = batchAt(0);
    const step = () => trainStepOn(model, opt, holder, SIZE, 0);
    for (let i = 0; i < 2; i++) for (const t of recorder.run('k', step)) t.release();
    expect(recorder.recorded).toBe(true);
    const pool = mg.getDevice().pool;
    const reserved = pool.stats().reservedBuffers;
    expect(reserved).toBeGreaterThan(50);
    // Work between replays (an evaluation) gets other buffers.
    const other = mg.tidy(() => mg.noGrad(() => model.call(mg.randn([N, SIZE, SIZE, 3], { seed: 1 }))));
    expect(other.buffer.reserved).toBe(false);
    other.release();
    recorder.dispose();
    expect(pool.stats().reservedBuffers).toBe(0);
    opt.dispose();
    for (const [, t] of model.stateTensors()) t.release();
  });
});

describe('split-K weight gradients summed by the optimizer', () => {
  it('train as the separate sums do (losses and weights within float rounding), with fewer dispatches', async () => {
    const old = setDeferredSplitSums(false);
    let separate: RunResult;
    let deferred: RunResult;
    try {
      separate = await train(true, 5);
      setDeferredSplitSums(true);
      deferred = await train(true, 5);
    } finally {
      setDeferredSplitSums(old);
    }
    // Only the order of the float32 additions differs (the reduction's interleaved accumulators
    // against AdamW's running sum), so the runs agree to rounding, not to the bit.
    for (let i = 0; i < 5; i++) expect(Math.abs(deferred.losses[i]! - separate.losses[i]!)).toBeLessThan(1e-4 * Math.abs(separate.losses[i]!));
    let worst = 0;
    for (let i = 0; i < separate.weights.length; i++) worst = Math.max(worst, Math.abs(deferred.weights[i]! - separate.weights[i]!));
    expect(worst).toBeLessThan(1e-5);
    expect(deferred.weights).not.toEqual(new Float32Array(deferred.weights.length));
    // Every split weight gradient's reduction dispatch is gone from the recorded step.
    expect(deferred.dispatches).toBeGreaterThan(100);
    expect(deferred.dispatches).toBeLessThan(separate.dispatches - 10);
  });
});

describe('TrainingRun with and without replay', () => {
  it('gives the same epoch metrics', async () => {
    const count = 16;
    const rng = new Rng(9);
    const images = new Uint8Array(count * SIZE * SIZE * 3);
    for (let k = 0; k < images.length; k++) images[k] = Math.floor(rng.next() * 256);
    const set = { images, labels: Int32Array.from({ length: count }, (_, i) => i % CLASSES), imageSize: SIZE };
    const cfg = (replay: boolean): LoopConfig => ({
      classes: ['a', 'b', 'c'], imageSize: SIZE, batchSize: N, epochs: 2, lr: 2e-3, labelSmoothing: 0.1, weightDecay: 0.01,
      bnMomentum: 0.1, bnRecalibrate: true, augmentation: 'standard', seed: 3, options: {}, replay,
    });
    const runs = [];
    for (const replay of [false, true]) {
      const run = new TrainingRun(cfg(replay), set, [...Array(12).keys()], [12, 13, 14, 15]);
      const metrics = [await run.runEpoch(), await run.runEpoch()];
      runs.push({ metrics, stats: { ...run.recorder.stats } });
      run.releaseStepPlan();
    }
    expect(runs[1]!.stats.replayed).toBeGreaterThan(0);
    const strip = (m: (mg.EpochMetrics | null)[]) => m.map((x) => ({ ...x!, seconds: 0, imagesPerSecond: 0 }));
    expect(strip(runs[1]!.metrics)).toEqual(strip(runs[0]!.metrics));
  });
});
