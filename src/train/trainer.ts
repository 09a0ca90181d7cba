/**
 * The trainer: a folder of images in class subfolders in, a trained MobileNetV3-Small out.
 * Used by `mobilegrad train` and callable as a library (`mg.train(options, events)`).
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { init } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import { loadImageFolder, type LoadedDataset } from '../data/dataset.js';
import { recommendRecipe } from '../data/recipe.js';
import { shuffledBatches } from '../data/batches.js';
import { stratifiedSplit } from '../data/split.js';
import { UsageError } from '../data/usage-error.js';
import { mobilenetV3Small, type MobileNetV3Small } from '../models/mobilenet-v3.js';
import { loadWeights } from '../models/weights.js';
import { AdamW } from '../optim/adam.js';
import { prepareBatch, uploadImages } from '../ops/augment.js';
import { softmaxCrossEntropy } from '../ops/loss.js';
import { drawConfusionMatrix } from '../report/confusion-matrix.js';
import { drawTrainingCurves } from '../report/training-curves.js';
import { writeFileAtomic } from '../report/write-file-atomic.js';
import { tensor } from '../tensor/create.js';
import { globalRng, Rng, seed as seedGlobal } from '../tensor/random.js';
import { keep, tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import { randomAugmentParams } from './augment-params.js';
import { CHECKPOINT_FILE, loadCheckpoint, saveCheckpoint, type RunPosition } from './checkpoint.js';
import { evaluate, gatherImages, recalibrateBatchNorm, type EvalResult, type ImageSet } from './evaluate.js';
import { makeModelConfig, saveModel } from './model-files.js';
import { checkOptions, DEFAULTS, type TrainOptions } from './options.js';
import { learningRateAt } from './schedule.js';

export interface StepInfo {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
  etaSeconds: number;
  lr: number;
}

export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  valLoss: number;
  valAcc: number;
  lr: number;
  seconds: number;
  imagesPerSecond: number;
}

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

/** Mixes integers into a 32-bit seed (independent streams per epoch / purpose). */
function mix(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return h >>> 0;
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

async function prepareData(o: TrainOptions, ev: TrainEvents): Promise<Prepared> {
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

/** One optimisation step on a batch of 8-bit images. Returns [loss, logits] (kept), not read back. */
function trainStep(model: MobileNetV3Small, optimizer: AdamW, bytes: Uint8Array, params: Float32Array, labels: Int32Array, size: number, smoothing: number): [Tensor, Tensor] {
  const n = labels.length;
  return tidy(() => {
    const img = uploadImages(bytes, n, size);
    const x = prepareBatch(img, params, n, size, size);
    const logits = model.call(x);
    const y = tensor(labels, [n]);
    const loss = softmaxCrossEntropy(logits, y, { labelSmoothing: smoothing });
    void loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return [keep(loss), keep(logits)] as [Tensor, Tensor];
  });
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
    o = { ...(saved as unknown as TrainOptions), resume: o.resume, data: o.data ?? (saved.data as string) };
  }
  checkOutDir(out, o);
  checkOptions(o); // refuse impossible values before reading any data
  if (o.quantize) throw new UsageError('--quantize: int8 quantization is not available yet (it is planned: issue 6). Train without --quantize.');
  const prep = await prepareData(o, ev);
  if (prep.skipped.length) {
    const list = prep.skipped.slice(0, 10).map((s) => `${s.path} (${s.reason})`).join('; ');
    warn(`skipped ${prep.skipped.length} file(s): ${list}${prep.skipped.length > 10 ? '; ...' : ''}`);
  }
  if (o.recipe === 'auto' && !o.resume) {
    const r = recommendRecipe(prep.trainIdx.length + prep.valIdx.length);
    o = { ...o, lr: r.lr, epochs: r.epochs, batchSize: r.batchSize };
    info(`recipe auto: lr ${r.lr}, ${r.epochs} epochs, batch ${r.batchSize}, ${r.augmentation} augmentation`);
    for (const reason of r.reasons) info(`  ${reason}`);
  }
  for (const w of checkOptions(o)) warn(w);
  const augmentation = recommendRecipe(prep.trainIdx.length + prep.valIdx.length).augmentation;
  const batchSize = Math.min(o.batchSize, prep.trainIdx.length);
  if (batchSize < 2) throw new UsageError('fewer than 2 training images after the validation split: add images or lower --val-split');

  await init();
  await mkdir(out, { recursive: true });
  seedGlobal(mix(o.seed, 0x600d));
  const model = mobilenetV3Small({ numClasses: prep.classes.length, bnMomentum: o.bnMomentum });
  if (o.pretrained && !o.resume) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(o.pretrained));
    } catch {
      throw new UsageError(`--pretrained ${o.pretrained}: file not found or unreadable`);
    }
    const rep = loadWeights(model, bytes, o.pretrained);
    info(`pretrained: ${rep.loaded} tensors from ${o.pretrained} (${rep.naming} names)${rep.reinitialized.length ? `; new classifier for ${prep.classes.length} classes` : ''}`);
  }
  // Weight decay on conv and linear weights only, as is usual (not on BatchNorm or biases).
  const named = model.namedParameters();
  const optimizer = new AdamW(
    [
      { params: named.filter(([, p]) => p.shape.length >= 2).map(([, p]) => p), weightDecay: o.weightDecay },
      { params: named.filter(([, p]) => p.shape.length < 2).map(([, p]) => p), weightDecay: 0 },
    ],
    { lr: o.lr },
  );

  const stepsPerEpoch = Math.floor(prep.trainIdx.length / batchSize);
  const totalSteps = stepsPerEpoch * o.epochs;
  const schedule = { baseLr: o.lr, totalSteps, warmupSteps: Math.min(stepsPerEpoch, Math.ceil(totalSteps * 0.1)) };
  let pos: RunPosition = {
    epoch: 0, stepInEpoch: 0, globalStep: 0, globalRngState: 0, augRngState: 0, history: [],
    options: { ...o, resume: undefined, force: undefined } as Record<string, unknown>, classes: prep.classes, elapsedSeconds: 0,
  };
  if (o.resume) {
    pos = await loadCheckpoint(out, model, optimizer);
    info(`resuming ${out} at epoch ${pos.epoch + 1}${pos.stepInEpoch ? `, step ${pos.stepInEpoch + 1}` : ''}`);
  } else {
    await writeFileAtomic(join(out, 'run.json'), JSON.stringify({ options: pos.options, classes: prep.classes }, null, 2) + '\n');
  }
  info(`training on ${prep.trainIdx.length} images, validating on ${prep.valIdx.length}, ${prep.classes.length} classes, ${o.imageSize} px, batch ${batchSize}, ${o.epochs} epochs, lr ${o.lr}`);

  const size = o.imageSize;
  const t0 = performance.now() - pos.elapsedSeconds * 1000;
  let imagesSeen = 0;
  let trainSeconds = 0;
  let last: EvalResult | null = null;
  let stopped: TrainSummary['stopped'] = 'completed';

  for (let epoch = pos.epoch; epoch < o.epochs; epoch++) {
    const batches = shuffledBatches(prep.trainIdx, batchSize, mix(o.seed, epoch, 1), true);
    const aug = new Rng(mix(o.seed, epoch, 2));
    seedGlobal(mix(o.seed, epoch, 3));
    const first = epoch === pos.epoch ? pos.stepInEpoch : 0;
    if (first > 0) {
      aug.setState(pos.augRngState);
      globalRng().setState(pos.globalRngState);
    }
    model.train();
    const te = performance.now();
    let lossSum = 0;
    let correct = 0;
    let seen = 0;
    for (let s = first; s < batches.length; s++) {
      if (ev.shouldStop?.()) {
        pos = { ...pos, epoch, stepInEpoch: s, globalRngState: globalRng().getState(), augRngState: aug.getState(), elapsedSeconds: (performance.now() - t0) / 1000 };
        await saveCheckpoint(out, model, optimizer, pos);
        info(`stopped: checkpoint saved at epoch ${epoch + 1}, step ${s + 1}; continue with --resume ${out}`);
        stopped = 'interrupted';
        break;
      }
      const b = batches[s]!;
      const lr = learningRateAt(pos.globalStep, schedule);
      optimizer.setLearningRate(lr);
      const labels = Int32Array.from(b, (k) => prep.set.labels[k]!);
      const ts = performance.now();
      const [lossT, logitsT] = trainStep(model, optimizer, gatherImages(prep.set, b), randomAugmentParams(b.length, size, augmentation, aug), labels, size, o.labelSmoothing);
      const loss = (await lossT.toArray())[0]!;
      const logits = (await logitsT.toArray()) as Float32Array;
      lossT.release();
      logitsT.release();
      trainSeconds += (performance.now() - ts) / 1000;
      if (!Number.isFinite(loss)) {
        throw new MobilegradError(
          `the loss became ${loss} at epoch ${epoch + 1}, step ${s + 1}: training diverged. The last good checkpoint is in ${out}; try a lower --lr (now ${o.lr}).`,
        );
      }
      const k = prep.classes.length;
      for (let i = 0; i < b.length; i++) {
        let best = 0;
        for (let c = 1; c < k; c++) if (logits[i * k + c]! > logits[i * k + best]!) best = c;
        if (best === labels[i]) correct++;
      }
      lossSum += loss * b.length;
      seen += b.length;
      imagesSeen += b.length;
      pos.globalStep++;
      const elapsed = (performance.now() - te) / 1000;
      const ips = seen / Math.max(elapsed, 1e-9);
      ev.onStep?.({
        epoch, epochs: o.epochs, step: s, steps: batches.length, loss: lossSum / seen, accuracy: correct / seen, imagesPerSecond: ips,
        etaSeconds: (batches.length - s - 1) * (elapsed / (s - first + 1)), lr,
      });
    }
    if (stopped === 'interrupted') break;
    if (o.bnRecalibrate) await recalibrateBatchNorm(model, prep.set, batches.flat(), batchSize);
    last = prep.valIdx.length ? await evaluate(model, prep.set, prep.valIdx, batchSize) : null;
    const seconds = (performance.now() - te) / 1000;
    const m: EpochMetrics = {
      epoch: epoch + 1, trainLoss: lossSum / Math.max(1, seen), trainAcc: correct / Math.max(1, seen),
      valLoss: last?.loss ?? NaN, valAcc: last?.accuracy ?? NaN, lr: optimizer.lr, seconds, imagesPerSecond: seen / seconds,
    };
    pos.history.push({ ...m });
    ev.onEpoch?.(m);
    pos = { ...pos, epoch: epoch + 1, stepInEpoch: 0, elapsedSeconds: (performance.now() - t0) / 1000 };
    await saveCheckpoint(out, model, optimizer, pos);
    await writeMetrics(out, pos.history);
  }

  const history = pos.history as unknown as EpochMetrics[];
  const finalEval = last ?? (prep.valIdx.length ? await evaluate(model, prep.set, prep.valIdx, batchSize) : null);
  let best = 0;
  history.forEach((h, i) => {
    if (h.valAcc > (history[best]?.valAcc ?? -1)) best = i;
  });
  const seconds = (performance.now() - t0) / 1000;
  const config = makeModelConfig(model, prep.classes, o.imageSize, { epochs: history.length, valAccuracy: finalEval?.accuracy ?? null, seed: o.seed });
  const modelBytes = await saveModel(out, model, config);
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
    seconds,
    imagesPerSecond: imagesSeen / Math.max(trainSeconds, 1e-9),
    trainImages: prep.trainIdx.length,
    valImages: prep.valIdx.length,
    modelBytes,
    stopped,
    options: o,
  };
  await writeFileAtomic(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  model.release();
  return summary;
}

async function writeMetrics(out: string, history: Record<string, number>[]): Promise<void> {
  await writeFileAtomic(join(out, 'metrics.json'), JSON.stringify(history, null, 2) + '\n');
  const cols = ['epoch', 'trainLoss', 'trainAcc', 'valLoss', 'valAcc', 'lr', 'seconds', 'imagesPerSecond'];
  const csv = [cols.join(','), ...history.map((h) => cols.map((c) => h[c]).join(','))].join('\n') + '\n';
  await writeFileAtomic(join(out, 'metrics.csv'), csv);
}

