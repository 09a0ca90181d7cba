/**
 * An epoch interrupted between steps (Ctrl-C in the CLI, Pause in the browser page) and then
 * continued reports the metrics of the whole epoch, exactly those of an uninterrupted run, also
 * through a checkpoint blob into a new TrainingRun (a reloaded tab, `--resume`).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { Rng } from '../src/tensor/random.js';

beforeAll(async () => {
  await mg.init();
});

const SIZE = 32;
const N = 24;

function dataset(): mg.ImageSet {
  const rng = new Rng(5);
  const labels = Int32Array.from({ length: N }, (_, i) => i % 3);
  const images = new Uint8Array(N * SIZE * SIZE * 3);
  for (let i = 0; i < images.length; i++) {
    const img = Math.floor(i / (SIZE * SIZE * 3));
    images[i] = (i % 3 === labels[img] ? 150 : 40) + rng.int(90);
  }
  return { images, labels, imageSize: SIZE };
}

function makeRun(set: mg.ImageSet): mg.TrainingRun {
  const cfg: mg.LoopConfig = {
    classes: ['a', 'b', 'c'], imageSize: SIZE, batchSize: 4, epochs: 1, lr: 1e-3, labelSmoothing: 0.1, weightDecay: 0.01,
    bnMomentum: 0.01, bnRecalibrate: true, augmentation: 'max', seed: 9, options: {},
  };
  return new mg.TrainingRun(cfg, set, [...Array(20).keys()], [20, 21, 22, 23]);
}

const comparable = (m: mg.EpochMetrics) => ({ trainLoss: m.trainLoss, trainAcc: m.trainAcc, valLoss: m.valLoss, valAcc: m.valAcc });

describe('an interrupted epoch', () => {
  it('reports the metrics of the uninterrupted epoch, in the same run and through a checkpoint', async () => {
    const set = dataset();
    const whole = makeRun(set);
    const want = (await whole.runEpoch())!;
    whole.model.release();
    expect(want.trainLoss).toBeGreaterThan(0);

    // Stop once 2 of the 5 steps are reported, then continue in the same run. Steps are pipelined
    // (the next is issued before the last one's loss is read), so the step in flight when the stop
    // is asked for completes and is reported too: 3 steps, each of them counted.
    const paused = makeRun(set);
    let steps = 0;
    expect(await paused.runEpoch({ onStep: () => steps++, shouldStop: () => steps >= 2 })).toBeNull();
    expect(steps).toBe(3);
    expect(paused.position.stepInEpoch).toBe(3);
    expect(paused.position.partial?.seen).toBe(12);
    const got = (await paused.runEpoch())!;
    expect(comparable(got)).toEqual(comparable(want));
    expect(paused.position.partial).toBeUndefined();
    paused.model.release();

    // Stop after 3 (+1 in flight) steps, checkpoint, continue in a new run restored from the blob.
    const first = makeRun(set);
    steps = 0;
    expect(await first.runEpoch({ onStep: () => steps++, shouldStop: () => steps >= 3 })).toBeNull();
    const blob = await first.checkpoint(1);
    first.model.release();
    const second = makeRun(set);
    second.restore(blob);
    expect(steps).toBe(4);
    expect(second.position.stepInEpoch).toBe(4);
    const resumed = (await second.runEpoch())!;
    expect(comparable(resumed)).toEqual(comparable(want));
    second.model.release();
  });
});
