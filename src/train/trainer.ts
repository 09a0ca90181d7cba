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
import { checkDataset, checkWarnings } from '../data/dataset-check.js';
import { recommendRecipe } from '../data/recipe.js';
import { UsageError } from '../data/usage-error.js';
import { loadWeights } from '../models/weights.js';
import { drawLrFind, formatLr } from '../report/lr-find-chart.js';
import { writeFileAtomic } from '../report/write-file-atomic.js';
import { bestEpoch, isImprovement, shouldStopEarly } from './best-epoch.js';
import { quantizeAfterTraining, type Int8RunSummary } from '../quant/after-training.js';
import { CHECKPOINT_FILE } from './checkpoint.js';
import { balancedClassWeights } from './class-weights.js';
import { evaluate, type EvalResult } from './evaluate.js';
import { defaultHeadEpochs, type FineTuneConfig } from './fine-tune.js';
import { DivergedError, TrainingRun, type EpochMetrics, type LoopConfig, type StepInfo } from './loop.js';
import { lrFind } from './lr-find.js';
import { classificationMetrics, type ClassificationMetrics } from './metrics.js';
import { makeModelConfig, MODEL_WEIGHTS, saveModel } from './model-files.js';
import { checkOptions, DEFAULTS, type TrainOptions } from './options.js';
import { prepareData } from './prepare-data.js';
import { writeMetricsFiles, writeRunReport } from './run-report.js';

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
  /** Best validation accuracy over the epochs, and its epoch: the weights saved in model.safetensors. */
  bestValAcc: number;
  bestEpoch: number;
  /** The last epoch's validation accuracy and loss. */
  finalValAcc: number;
  finalValLoss: number;
  /** Recall of each class for the saved model. */
  perClassAccuracy: Record<string, number>;
  /** Precision, recall, F1, support, averages, confusion matrices (and top-5) of the saved model on the validation set. */
  metrics: ClassificationMetrics | null;
  /** The peak learning rate used (the range test's suggestion with --lr auto). */
  lr: number;
  /** Loss weight of each class (with --class-weights auto), else null. */
  classWeights: Record<string, number> | null;
  /** Dataset-check warnings given at the start. */
  dataWarnings: string[];
  seconds: number;
  imagesPerSecond: number;
  trainImages: number;
  valImages: number;
  modelBytes: number;
  /** `--quantize`: the int8 model, its size and its accuracy next to the float model's. */
  int8: Int8RunSummary | null;
  /** `early-stopped`: --patience epochs passed without a better validation accuracy. */
  stopped: 'completed' | 'interrupted' | 'early-stopped';
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
    // Options added since the run started take their defaults.
    o = { ...DEFAULTS, ...(saved as unknown as TrainOptions), resume: o.resume, data: o.data || (saved.data as string) };
  }
  checkOutDir(out, o);
  checkOptions(o); // refuse impossible values before reading any data
  const prep = await prepareData(o);
  if (prep.skipped.length) {
    const list = prep.skipped.slice(0, 10).map((s) => `${s.path} (${s.reason})`).join('; ');
    warn(`skipped ${prep.skipped.length} file(s): ${list}${prep.skipped.length > 10 ? '; ...' : ''}`);
  }
  const dataWarnings = o.checkData
    ? checkWarnings(checkDataset({ classes: prep.classes, images: prep.checked, undecodable: [], imageSize: o.imageSize }), { classWeightsOn: o.classWeights === 'auto' })
    : [];
  for (const w of dataWarnings) warn(w);
  const recipe = recommendRecipe(prep.trainIdx.length + prep.valIdx.length);
  if (o.recipe === 'auto' && !o.resume) {
    o = { ...o, lr: recipe.lr, epochs: recipe.epochs, batchSize: recipe.batchSize };
    info(`recipe auto: lr ${recipe.lr}, ${recipe.epochs} epochs, batch ${recipe.batchSize}, ${recipe.augmentation} augmentation`);
    for (const reason of recipe.reasons) info(`  ${reason}`);
  }
  if (o.patience > 0 && prep.valIdx.length === 0) warn('--patience needs a validation set (--val or --val-split above 0): early stopping is off');

  await init();
  await mkdir(out, { recursive: true });
  const classWeights = o.classWeights === 'auto' ? balancedClassWeights(prep.set.labels, prep.trainIdx, prep.classes.length) : undefined;
  if (classWeights && !o.resume) info(`class weights (balanced): ${prep.classes.map((c, i) => `${c} ${classWeights[i]!.toFixed(2)}`).join(', ')}`);
  const fineTune: FineTuneConfig | undefined = o.pretrained
    ? { headEpochs: o.freezeBackbone ? o.epochs : (o.headEpochs ?? defaultHeadEpochs(o.epochs)), backboneLrScale: o.backboneLrScale, freezeBackbone: o.freezeBackbone }
    : undefined;
  const pretrained = o.pretrained && !o.resume ? await readPretrained(o.pretrained) : null;
  const loopConfig = (lr: number, savedOptions: Record<string, unknown>): LoopConfig => ({
    classes: prep.classes, imageSize: o.imageSize, batchSize: o.batchSize, epochs: o.epochs, lr, labelSmoothing: o.labelSmoothing,
    weightDecay: o.weightDecay, bnMomentum: o.bnMomentum, bnRecalibrate: o.bnRecalibrate, augmentation: recipe.augmentation, seed: o.seed,
    options: savedOptions, classWeights, fineTune,
  });

  let lrFindPng: Uint8Array | undefined;
  if (o.lrAuto && !o.resume) {
    info(`--lr auto: learning-rate range test over ${LR_AUTO_STEPS} steps...`);
    const found = await lrFind(loopConfig(o.lr, {}), prep.set, prep.trainIdx, {
      steps: LR_AUTO_STEPS,
      prepare: (r) => { if (pretrained) loadWeights(r.model, pretrained, o.pretrained); },
    });
    if (!(found.suggestion > 0)) throw new MobilegradError('--lr auto: the range test found no learning rate at which the loss fell; pass --lr yourself');
    lrFindPng = drawLrFind(found);
    await writeFileAtomic(join(out, 'lr-find.png'), lrFindPng);
    await writeFileAtomic(join(out, 'lr-find.json'), JSON.stringify(found) + '\n');
    o = { ...o, lr: Number(found.suggestion.toPrecision(2)) };
    info(`--lr auto: lr ${formatLr(o.lr)} (lowest smoothed loss at ${formatLr(found.minLossLr)}, divided by 10; see lr-find.png)`);
  }
  for (const w of checkOptions(o)) warn(w);

  const savedOptions = { ...o, resume: undefined, force: undefined } as Record<string, unknown>;
  const run = new TrainingRun(loopConfig(o.lr, savedOptions), prep.set, prep.trainIdx, prep.valIdx);
  if (pretrained) {
    const rep = loadWeights(run.model, pretrained, o.pretrained);
    info(`pretrained: ${rep.loaded} tensors from ${o.pretrained} (${rep.naming} names)${rep.reinitialized.length ? `; new classifier for ${prep.classes.length} classes` : ''}`);
    info(fineTune!.freezeBackbone ? 'fine-tuning: the head only (--freeze-backbone)'
      : `fine-tuning: the head alone for ${fineTune!.headEpochs} epoch(s), then the whole network with the backbone at ${fineTune!.backboneLrScale}x the learning rate`);
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

  const history = run.position.history as unknown as EpochMetrics[];
  const modelConfig = (epoch: EpochMetrics | null) => makeModelConfig(run.model, prep.classes, o.imageSize, {
    epochs: history.length, bestEpoch: epoch?.epoch ?? null, valAccuracy: epoch?.valAcc ?? null, seed: o.seed, resize: o.resize,
  });
  const t0 = performance.now() - run.position.elapsedSeconds * 1000;
  const elapsed = () => (performance.now() - t0) / 1000;
  let stopped: TrainSummary['stopped'] = 'completed';
  let best = bestEpoch(history);
  while (!run.done) {
    if (shouldStopEarly(history, o.patience)) {
      info(`early stop: validation accuracy has not improved for ${o.patience} epoch(s) (--patience ${o.patience}); saved model: epoch ${best!.epoch}`);
      stopped = 'early-stopped';
      break;
    }
    let m: EpochMetrics | null;
    try {
      m = await run.runEpoch({ onStep: ev.onStep, shouldStop: ev.shouldStop });
    } catch (e) {
      if (e instanceof DivergedError) throw new MobilegradError(`${e.message}. The last good checkpoint is in ${out}; try a lower --lr (now ${o.lr}).`);
      throw e;
    }
    // The best epoch's weights are saved as soon as it ends (before the checkpoint that records it),
    // so model.safetensors always holds the best model so far, even after a kill.
    if (m && isImprovement(m, best)) {
      best = m;
      await saveModel(out, run.model, modelConfig(m));
    }
    await writeFileAtomic(join(out, CHECKPOINT_FILE), await run.checkpoint(elapsed()));
    if (!m) {
      info(`stopped: checkpoint saved at epoch ${run.position.epoch + 1}, step ${run.position.stepInEpoch + 1}; continue with --resume ${out}`);
      stopped = 'interrupted';
      break;
    }
    ev.onEpoch?.(m);
    await writeMetricsFiles(out, { epochs: history, bestEpoch: best?.epoch ?? null, validation: null });
  }

  // The saved model is the best epoch's: bring its weights back when later steps changed them.
  let evaluation: EvalResult | null;
  const last = history[history.length - 1] ?? null;
  if (best && (best.epoch !== last?.epoch || run.position.stepInEpoch > 0)) {
    loadWeights(run.model, new Uint8Array(await readFile(join(out, MODEL_WEIGHTS))), join(out, MODEL_WEIGHTS));
    evaluation = prep.valIdx.length ? await evaluate(run.model, prep.set, prep.valIdx, run.batchSize) : null;
    info(`saved model: epoch ${best.epoch} of ${history.length} (best validation accuracy ${(100 * best.valAcc).toFixed(1)}%)`);
  } else {
    evaluation = await run.finalEvaluation();
  }
  const config = modelConfig(best ?? last);
  const modelBytes = await saveModel(out, run.model, config);
  // --quantize: the int8 model of the saved (best) weights, in <out>/int8, checked against them.
  const int8 = o.quantize && stopped !== 'interrupted'
    ? await quantizeAfterTraining(run.model, config, prep.set, prep.trainIdx, prep.valIdx, out, { batchSize: run.batchSize, seed: o.seed, qatEpochs: o.qatEpochs }, info)
    : null;
  const metrics = evaluation ? classificationMetrics(evaluation.confusion, prep.classes, {
    loss: evaluation.loss, probabilities: evaluation.probabilities, labels: Int32Array.from(prep.valIdx, (i) => prep.set.labels[i]!),
  }) : null;
  await writeMetricsFiles(out, { epochs: history, bestEpoch: best?.epoch ?? null, validation: metrics });
  const summary: TrainSummary = {
    outDir: out,
    classes: prep.classes,
    epochsRun: history.length,
    bestValAcc: best?.valAcc ?? NaN,
    bestEpoch: best?.epoch ?? last?.epoch ?? 0,
    finalValAcc: last?.valAcc ?? NaN,
    finalValLoss: last?.valLoss ?? NaN,
    perClassAccuracy: Object.fromEntries(prep.classes.map((c, i) => [c, evaluation?.perClassAccuracy[i] ?? NaN])),
    metrics,
    lr: o.lr,
    classWeights: classWeights ? Object.fromEntries(prep.classes.map((c, i) => [c, classWeights[i]!])) : null,
    dataWarnings,
    seconds: elapsed(),
    imagesPerSecond: run.imagesSeen / Math.max(run.trainSeconds, 1e-9),
    trainImages: prep.trainIdx.length,
    valImages: prep.valIdx.length,
    modelBytes,
    int8,
    stopped,
    options: o,
  };
  const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');
  await writeRunReport({
    out, classes: prep.classes, history, bestEpoch: best?.epoch ?? null, evaluation, metrics, set: prep.set, valIdx: prep.valIdx,
    options: savedOptions, warnings: dataWarnings, lrFindPng,
    notes: [
      `${prep.classes.length} classes, ${prep.trainIdx.length} training and ${prep.valIdx.length} validation images from ${o.data}${o.val ? ` and ${o.val}` : ''}, ${o.imageSize} px.`,
      `Model: ${join(out, MODEL_WEIGHTS)} (weights of epoch ${summary.bestEpoch}${best ? ', the best validation accuracy' : ''}); ${stopped === 'early-stopped' ? `stopped early after ${history.length} epochs (--patience ${o.patience})` : `${history.length} epoch(s) run`}.`,
    ],
    highlights: [
      ['validation accuracy (saved model)', pct(metrics?.accuracy ?? NaN)],
      ['macro F1', pct(metrics?.macro.f1 ?? NaN)],
      ...(metrics?.top5Accuracy !== undefined ? [['top-5 accuracy', pct(metrics.top5Accuracy)] as [string, string]] : []),
      ['saved epoch', `${summary.bestEpoch} of ${history.length}`],
      ['training time', `${summary.seconds.toFixed(0)} s`],
      ['images per second', summary.imagesPerSecond.toFixed(0)],
    ],
  });
  await writeFileAtomic(join(out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  run.model.release();
  return summary;
}

/** Steps of the range test `--lr auto` runs (the `lr-find` command defaults to more). */
export const LR_AUTO_STEPS = 100;

async function readPretrained(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    throw new UsageError(`--pretrained ${path}: file not found or unreadable`);
  }
}
