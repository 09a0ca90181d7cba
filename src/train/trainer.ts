/**
 * The Node trainer: a folder of images in class subfolders in, a trained MobileNetV3-Small out.
 * Used by `mobilegrad train` and callable as a library (`train(options, events)` from mobilegrad's
 * Node entry). Data loading, files and checkpoints on disk wrap the platform-neutral loop (loop.ts).
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { init } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import { loadImageFolder, type LoadedDataset } from '../data/dataset.js';
import { recommendRecipe } from '../data/recipe.js';
import { stratifiedSplit } from '../data/split.js';
import { UsageError } from '../data/usage-error.js';
import { loadWeights } from '../models/weights.js';
import { drawConfusionMatrix } from '../report/confusion-matrix.js';
import { drawTrainingCurves } from '../report/training-curves.js';
import { writeFileAtomic } from '../report/write-file-atomic.js';
import { CHECKPOINT_FILE } from './checkpoint.js';
import type { ImageSet } from './evaluate.js';
import { DivergedError, TrainingRun, type EpochMetrics, type StepInfo } from './loop.js';
import { makeModelConfig, saveModel } from './model-files.js';
import { checkOptions, DEFAULTS, type TrainOptions } from './options.js';

export type { EpochMetrics, StepInfo } from './loop.js';

/** Callbacks for progress display; all optional. */
export interface TrainEvents {
  onInfo?: (msg: string) => void;
  onWarning?: (msg: string) => void;
  onStep?: (s: StepInfo) => void;
  onEpoch?: (m: EpochMetrics) => void;
  /** Polled between steps: true stops the run after saving a checkpoint (Ctrl-C). */
  shouldStop?: () => boolean;
}

export interface TrainSummary {
  outDir: string;
  classes: string[];
  epochsRun: number;
  bestValAcc: number;
  bestEpoch: number;
  finalValAcc: number;
  finalValLoss: number;
  perClassAccuracy: Record<string, number>;
  seconds: number;
  imagesPerSecond: number;
  trainImages: number;
  valImages: number;
  modelBytes: number;
  stopped: 'completed' | 'interrupted';
  options: TrainOptions;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:T]/g, '-').replace(/\..*/, '');
}

/** Refuses an --out folder that holds another run, unless resuming or forced. */
function checkOutDir(out: string, o: TrainOptions): void {
  if (o.resume || o.force || !existsSync(out)) return;
  let entries: string[];
  try {
    entries = readdirSync(out);
  } catch {
    throw new UsageError(`--out ${out} exists and is not a readable folder: choose another --out`);
  }
  if (entries.some((e) => e === CHECKPOINT_FILE || e === 'config.json' || e === 'metrics.json')) {
    throw new UsageError(`--out ${out} already holds a training run: use --resume ${out} to continue it, --force to overwrite, or another --out`);
  }
}

interface Prepared {
  classes: string[];
  set: ImageSet;
  trainIdx: number[];
  valIdx: number[];
  skipped: LoadedDataset['skipped'];
}

async function prepareData(o: TrainOptions): Promise<Prepared> {
  const data = await loadImageFolder(o.data, { imageSize: o.imageSize, allowSmall: o.allowSmall, cacheDir: o.cacheDir });
  const skipped = [...data.skipped];
  if (!o.val) {
    const split = stratifiedSplit(data.labels, o.valSplit, o.seed);
    return { classes: data.classes, set: data, trainIdx: split.train, valIdx: split.val, skipped };
  }
  const val = await loadImageFolder(o.val, { imageSize: o.imageSize, allowSmall: true, minImages: 1, cacheDir: o.cacheDir });
  skipped.push(...val.skipped);
  if (val.classes.join('\n') !== data.classes.join('\n')) {
    throw new UsageError(`--val ${o.val} has classes [${val.classes.join(', ')}] but --data has [${data.classes.join(', ')}]: both need the same class folders`);
  }
  const images = new Uint8Array(data.images.length + val.images.length);
  images.set(data.images);
  images.set(val.images, data.images.length);
  const labels = new Int32Array(data.count + val.count);
  labels.set(data.labels);
  labels.set(val.labels, data.count);
  return {
    classes: data.classes,
    set: { images, labels, imageSize: o.imageSize },
    trainIdx: [...Array(data.count).keys()],
    valIdx: Array.from({ length: val.count }, (_, i) => data.count + i),
    skipped,
  };
}

async function writeMetrics(out: string, history: Record<string, number>[]): Promise<void> {
  await writeFileAtomic(join(out, 'metrics.json'), JSON.stringify(history, null, 2) + '\n');
  const cols = ['epoch', 'trainLoss', 'trainAcc', 'valLoss', 'valAcc', 'lr', 'seconds', 'imagesPerSecond'];
  const csv = [cols.join(','), ...history.map((h) => cols.map((c) => h[c]).join(','))].join('\n') + '\n';
  await writeFileAtomic(join(out, 'metrics.csv'), csv);
}

/** Trains MobileNetV3-Small on a folder of images. See {@link TrainOptions}. */
export async function train(options: Partial<TrainOptions> & { data: string }, ev: TrainEvents = {}): Promise<TrainSummary> {
  const info = ev.onInfo ?? (() => {});
  const warn = ev.onWarning ?? (() => {});
  let o: TrainOptions = { ...DEFAULTS, ...options };
  const out = resolve(o.resume ?? o.out ?? join('runs', timestamp()));
  if (o.resume) {
    let saved: Record<string, unknown>;
    try {
      saved = JSON.parse(await readFile(join(out, 'run.json'), 'utf8')).options;
    } catch {
      throw new UsageError(`--resume ${o.resume}: no run to resume there (run.json missing); pass the --out folder of an earlier run`);
    }
    o = { ...(saved as unknown as TrainOptions), resume: o.resume, data: o.data || (saved.data as string) };
  }
  checkOutDir(out, o);
  checkOptions(o); // refuse impossible values before reading any data
  if (o.quantize) throw new UsageError('--quantize: int8 quantization is not available yet (it is planned: issue 6). Train without --quantize.');
  const prep = await prepareData(o);
  if (prep.skipped.length) {
    const list = prep.skipped.slice(0, 10).map((s) => `${s.path} (${s.reason})`).join('; ');
    warn(`skipped ${prep.skipped.length} file(s): ${list}${prep.skipped.length > 10 ? '; ...' : ''}`);
  }
  const recipe = recommendRecipe(prep.trainIdx.length + prep.valIdx.length);
  if (o.recipe === 'auto' && !o.resume) {
    o = { ...o, lr: recipe.lr, epochs: recipe.epochs, batchSize: recipe.batchSize };
    info(`recipe auto: lr ${recipe.lr}, ${recipe.epochs} epochs, batch ${recipe.batchSize}, ${recipe.augmentation} augmentation`);
    for (const reason of recipe.reasons) info(`  ${reason}`);
  }
  for (const w of checkOptions(o)) warn(w);

  await init();
  await mkdir(out, { recursive: true });
  const savedOptions = { ...o, resume: undefined, force: undefined } as Record<string, unknown>;
  const run = new TrainingRun(
    {
      classes: prep.classes, imageSize: o.imageSize, batchSize: o.batchSize, epochs: o.epochs, lr: o.lr, labelSmoothing: o.labelSmoothing,
      weightDecay: o.weightDecay, bnMomentum: o.bnMomentum, bnRecalibrate: o.bnRecalibrate, augmentation: recipe.augmentation, seed: o.seed, options: savedOptions,
    },
    prep.set, prep.trainIdx, prep.valIdx,
  );
  if (o.pretrained && !o.resume) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(o.pretrained));
    } catch {
      throw new UsageError(`--pretrained ${o.pretrained}: file not found or unreadable`);
    }
    const rep = loadWeights(run.model, bytes, o.pretrained);
    info(`pretrained: ${rep.loaded} tensors from ${o.pretrained} (${rep.naming} names)${rep.reinitialized.length ? `; new classifier for ${prep.classes.length} classes` : ''}`);
  }
  if (o.resume) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(join(out, CHECKPOINT_FILE)));
    } catch {
      throw new UsageError(`no checkpoint to resume in ${out} (${CHECKPOINT_FILE} not found): --resume takes the --out folder of an earlier run`);
    }
    run.restore(bytes, join(out, CHECKPOINT_FILE));
    info(`resuming ${out} at epoch ${run.position.epoch + 1}${run.position.stepInEpoch ? `, step ${run.position.stepInEpoch + 1}` : ''}`);
  } else {
    await writeFileAtomic(join(out, 'run.json'), JSON.stringify({ options: savedOptions, classes: prep.classes }, null, 2) + '\n');
  }
  info(`training on ${prep.trainIdx.length} images, validating on ${prep.valIdx.length}, ${prep.classes.length} classes, ${o.imageSize} px, batch ${run.batchSize}, ${o.epochs} epochs, lr ${o.lr}`);

  const t0 = performance.now() - run.position.elapsedSeconds * 1000;
  const elapsed = () => (performance.now() - t0) / 1000;
  let stopped: TrainSummary['stopped'] = 'completed';
  while (!run.done) {
    let m: EpochMetrics | null;
    try {
      m = await run.runEpoch({ onStep: ev.onStep, shouldStop: ev.shouldStop });
    } catch (e) {
      if (e instanceof DivergedError) throw new MobilegradError(`${e.message}. The last good checkpoint is in ${out}; try a lower --lr (now ${o.lr}).`);
      throw e;
    }
    await writeFileAtomic(join(out, CHECKPOINT_FILE), await run.checkpoint(elapsed()));
    if (!m) {
      info(`stopped: checkpoint saved at epoch ${run.position.epoch + 1}, step ${run.position.stepInEpoch + 1}; continue with --resume ${out}`);
      stopped = 'interrupted';
      break;
    }
    ev.onEpoch?.(m);
    await writeMetrics(out, run.position.history);
  }

  const history = run.position.history as unknown as EpochMetrics[];
  const finalEval = await run.finalEvaluation();
  let best = 0;
  history.forEach((h, i) => {
    if (h.valAcc > (history[best]?.valAcc ?? -1)) best = i;
  });
  const config = makeModelConfig(run.model, prep.classes, o.imageSize, { epochs: history.length, valAccuracy: finalEval?.accuracy ?? null, seed: o.seed });
  const modelBytes = await saveModel(out, run.model, config);
  if (history.length) await writeFileAtomic(join(out, 'training-curves.png'), drawTrainingCurves(history));
  if (finalEval) await writeFileAtomic(join(out, 'confusion-matrix.png'), drawConfusionMatrix(finalEval.confusion, prep.classes));
  const summary: TrainSummary = {
    outDir: out,
    classes: prep.classes,
    epochsRun: history.length,
    bestValAcc: history[best]?.valAcc ?? NaN,
    bestEpoch: best + 1,
    finalValAcc: finalEval?.accuracy ?? NaN,
    finalValLoss: finalEval?.loss ?? NaN,
    perClassAccuracy: Object.fromEntries(prep.classes.map((c, i) => [c, finalEval?.perClassAccuracy[i] ?? NaN])),
    seconds: elapsed(),
    imagesPerSecond: run.imagesSeen / Math.max(run.trainSeconds, 1e-9),
    trainImages: prep.trainIdx.length,
    valImages: prep.valIdx.length,
    modelBytes,
    stopped,
    options: o,
  };
  await writeFileAtomic(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  run.model.release();
  return summary;
}
