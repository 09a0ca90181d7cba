/**
 * `mobilegrad train --profile`: one training step of the trainer's own model, optimizer and
 * augmentation on a real batch of the dataset, profiled (after one unprofiled step that compiles
 * the pipelines and fills the buffer pool).
 */
import { init } from '../device/device.js';
import { loadImageFolder } from '../data/dataset.js';
import { recommendRecipe } from '../data/recipe.js';
import { profile, type ProfileReport } from '../profile/profiler.js';
import { Rng } from '../tensor/random.js';
import { randomAugmentParams } from './augment-params.js';
import { gatherImages } from './evaluate.js';
import { mixSeed, TrainingRun, trainStep } from './loop.js';
import { checkOptions, DEFAULTS, type TrainOptions } from './options.js';

/** Profiles one training step as `mobilegrad train` would run it with these options. */
export async function profileTrainingStep(options: Partial<TrainOptions> & { data: string }, onInfo: (m: string) => void = () => {}): Promise<ProfileReport<number>> {
  const o: TrainOptions = { ...DEFAULTS, ...options };
  checkOptions(o);
  const data = await loadImageFolder(o.data, { imageSize: o.imageSize, allowSmall: o.allowSmall, cacheDir: o.cacheDir });
  await init();
  const all = [...Array(data.count).keys()];
  const augmentation = recommendRecipe(data.count).augmentation;
  const run = new TrainingRun(
    {
      classes: data.classes, imageSize: o.imageSize, batchSize: o.batchSize, epochs: 1, lr: o.lr, labelSmoothing: o.labelSmoothing,
      weightDecay: o.weightDecay, bnMomentum: o.bnMomentum, bnRecalibrate: false, augmentation, seed: o.seed, options: {},
    },
    data, all, [],
  );
  const n = run.batchSize;
  const rng = new Rng(mixSeed(o.seed, 0x9f));
  const batch = (k: number) => Array.from({ length: n }, (_, i) => all[(k * n + i) % all.length]!);
  const step = (k: number) => {
    const idx = batch(k);
    return trainStep(run.model, run.optimizer, gatherImages(data, idx), randomAugmentParams(n, o.imageSize, augmentation, rng), Int32Array.from(idx, (i) => data.labels[i]!), o.imageSize, o.labelSmoothing);
  };
  onInfo(`profiling one training step: ${o.imageSize} px, batch ${n}, ${data.classes.length} classes (after one warm-up step)`);
  const warm = step(0);
  await warm[0].item();
  warm.forEach((t) => t.release());
  const report = await profile(() => step(1), { label: `one training step (${o.imageSize} px, batch ${n})` });
  const loss = await report.result[0].item();
  report.result.forEach((t) => t.release());
  run.model.release();
  run.optimizer.dispose();
  return { ...report, result: loss };
}
