/**
 * The training worker: owns the WebGPU device, the decoded images (8-bit, at the training size)
 * and the model, so the page stays responsive while it trains. It drives the library's
 * platform-neutral TrainingRun one epoch at a time, checkpoints to OPFS after each epoch, and
 * answers the page's messages (protocol.ts).
 */
import * as mg from '../../src/index.js';
import { decodeToRgb } from './decode.js';
import { evalView } from './eval-view.js';
import type { FinalMetrics, FromWorker, LabelledFile, Prediction, RunSettings, ToWorker } from './protocol.js';
import * as store from './run-store.js';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;
const post = (m: FromWorker, transfer?: Transferable[]) => scope.postMessage(m, transfer);

/** Images decoded for the chosen folder. */
interface Dataset {
  images: Uint8Array;
  labels: Int32Array;
  paths: string[];
  imageSize: number;
}

let gpu: Promise<boolean> | null = null;
let dataset: Dataset | null = null;
let decodeJob = 0;
let run: mg.TrainingRun | null = null;
let settings: RunSettings | null = null;
/** What the training loop should do next; set by pause/resume/stop messages between steps. */
let control: 'run' | 'pause' | 'stop' = 'run';
/** Read through a call: messages change `control` while the loop awaits (TypeScript cannot see that). */
const ctl = () => control;
let wake: (() => void) | null = null;
let training = false;
/** The best epoch so far and its weights (model.safetensors bytes): what the run hands out, as the CLI does. */
let best: mg.EpochMetrics | null = null;
let bestWeights: Uint8Array | null = null;
/** The model that answers predictions and downloads: the trained one or a loaded one (`files`: its bytes as loaded). */
let current: { model: mg.models.MobileNetV3Small | mg.Int8Model; config: mg.ModelConfig; owned: boolean; files?: { weights: Uint8Array; config: string } } | null = null;
/** The int8 model of the finished run (quantize ticked). */
let int8Files: { weights: Uint8Array; config: string } | null = null;

function initGpu(): Promise<boolean> {
  gpu ??= (async () => {
    try {
      const r = await mg.init();
      const a = r.adapter;
      post({ type: 'ready', adapter: [a.vendor, a.architecture, a.description || a.device].filter(Boolean).join(' / ') || 'unnamed adapter', features: r.features });
      return true;
    } catch (e) {
      post({ type: 'no-gpu', message: e instanceof Error ? e.message : String(e) });
      return false;
    }
  })();
  return gpu;
}

async function needGpu(): Promise<void> {
  if (!(await initGpu())) throw new Error('this browser gives the page no WebGPU adapter (see the message at the top)');
}

async function decode(job: number, files: LabelledFile[], classes: string[], size: number): Promise<void> {
  const per = size * size * 3;
  const images = new Uint8Array(files.length * per);
  const labels = new Int32Array(files.length);
  const paths: string[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const perClass = new Array<number>(classes.length).fill(0);
  let count = 0;
  let lastPost = 0;
  for (let i = 0; i < files.length; i++) {
    if (job !== decodeJob) return; // a newer folder or image size replaced this job
    const f = files[i]!;
    try {
      await decodeToRgb(f.file, size, images.subarray(count * per, (count + 1) * per));
      labels[count] = f.label;
      paths.push(f.path);
      perClass[f.label]!++;
      count++;
    } catch (e) {
      skipped.push({ path: f.path, reason: e instanceof Error ? e.message : String(e) });
    }
    if (performance.now() - lastPost > 100 || i === files.length - 1) {
      lastPost = performance.now();
      post({ type: 'decode-progress', job, done: i + 1, total: files.length });
    }
  }
  if (job !== decodeJob) return;
  // No copy when every file decoded: at 5,000 images x 224 px the buffer is 753 MB.
  dataset = { images: count === files.length ? images : images.slice(0, count * per), labels: labels.slice(0, count), paths, imageSize: size };
  post({ type: 'decoded', job, imageSize: size, perClass, skipped, bytes: count * per });
}

function loopConfig(s: RunSettings): mg.LoopConfig {
  return {
    classes: s.classes, imageSize: s.imageSize, batchSize: s.batchSize, epochs: s.epochs, lr: s.lr, labelSmoothing: s.labelSmoothing,
    weightDecay: s.weightDecay, bnMomentum: s.bnMomentum, bnRecalibrate: s.bnRecalibrate, augmentation: s.augmentation, seed: s.seed,
    options: { ...s, trainedIn: 'browser' },
  };
}

function memory() {
  const stats = mg.memoryStats();
  return { imageBytes: dataset?.images.byteLength ?? 0, gpuBytes: stats.allocatedBytes, peakGpuBytes: stats.peakAllocatedBytes };
}

/** Builds the run over the held dataset, restoring a checkpoint blob when given. */
function startRun(s: RunSettings, checkpoint: Uint8Array | null): mg.TrainingRun {
  if (!dataset) throw new Error('no images decoded yet: choose a folder first');
  if (dataset.imageSize !== s.imageSize) throw new Error(`the images were decoded at ${dataset.imageSize} px, not ${s.imageSize}: choose the folder again`);
  const split = mg.stratifiedSplit(dataset.labels, s.valSplit, s.seed);
  releaseCurrent();
  run?.model.release();
  const r = new mg.TrainingRun(loopConfig(s), { images: dataset.images, labels: dataset.labels, imageSize: s.imageSize }, split.train, split.val);
  if (checkpoint) r.restore(checkpoint, 'the saved checkpoint');
  best = mg.bestEpoch(r.position.history as unknown as mg.EpochMetrics[]);
  bestWeights = null;
  int8Files = null;
  settings = s;
  run = r;
  return r;
}

async function checkpoint(r: mg.TrainingRun, elapsed: number, finished: boolean): Promise<void> {
  if (!store.hasStorage()) return;
  try {
    const blob = await r.checkpoint(elapsed);
    await store.saveCheckpoint(blob, r.position.epoch, r.position.history as unknown as mg.EpochMetrics[], finished);
    post({ type: 'checkpointed', epoch: r.position.epoch, step: r.position.stepInEpoch, bytes: blob.byteLength, where: 'browser storage (OPFS)', memory: memory() });
  } catch (e) {
    post({ type: 'error', context: 'checkpoint', message: `could not save the checkpoint to browser storage: ${e instanceof Error ? e.message : e}. Training goes on; download the model when it ends.` });
  }
}

/** Trains until the run is done or stopped, pausing when asked. */
async function trainLoop(r: mg.TrainingRun): Promise<void> {
  const s = settings!;
  training = true;
  control = 'run';
  const t0 = performance.now() - r.position.elapsedSeconds * 1000;
  const elapsed = () => (performance.now() - t0) / 1000;
  post({ type: 'started', settings: s, trainImages: r.trainIdx.length, valImages: r.valIdx.length, stepsPerEpoch: r.stepsPerEpoch, resumedAt: r.position.epoch, history: r.position.history as unknown as mg.EpochMetrics[] });
  try {
    while (!r.done && ctl() !== 'stop') {
      if (ctl() === 'pause') {
        await checkpoint(r, elapsed(), false);
        post({ type: 'paused', epoch: r.position.epoch, step: r.position.stepInEpoch });
        await new Promise<void>((ok) => (wake = ok));
        wake = null;
        if (ctl() === 'stop') break;
        post({ type: 'resumed' });
        continue;
      }
      const m = await r.runEpoch({ onStep: (info) => post({ type: 'step', info }), shouldStop: () => ctl() !== 'run' });
      if (m) {
        const ev = r.lastEval ? evalView(r.lastEval, r.valIdx, r.set, dataset!.paths) : null;
        post({ type: 'epoch', metrics: m, eval: ev, memory: memory() });
        if (mg.isImprovement(m, best)) await keepBest(r, m);
        await checkpoint(r, elapsed(), false);
      }
    }
    if (ctl() === 'stop' && !r.done) await checkpoint(r, elapsed(), false);
    await finish(r, elapsed());
  } catch (e) {
    if (!(e instanceof mg.MobilegradError)) console.error(e); // a bug rather than bad input: keep the stack for the console
    const msg = e instanceof mg.DivergedError ? `${e.message}: try a lower learning rate (now ${s.lr}); the last epoch's checkpoint is kept` : e instanceof Error ? e.message : String(e);
    post({ type: 'error', context: 'training', message: msg });
  } finally {
    training = false;
  }
}

/** Keeps the weights of a new best epoch, in memory and in browser storage. */
async function keepBest(r: mg.TrainingRun, m: mg.EpochMetrics): Promise<void> {
  best = m;
  bestWeights = (await mg.encodeModel(r.model, mg.makeModelConfig(r.model, r.cfg.classes, r.cfg.imageSize))).weights;
  if (!store.hasStorage()) return;
  try {
    await store.saveBest(bestWeights);
  } catch (e) {
    post({ type: 'error', context: 'storage', message: `could not save the best epoch's weights to browser storage: ${e instanceof Error ? e.message : e}` });
  }
}

async function finish(r: mg.TrainingRun, seconds: number): Promise<void> {
  const s = settings!;
  post({ type: 'phase', text: 'final evaluation' });
  const history = r.position.history as unknown as mg.EpochMetrics[];
  const last = history[history.length - 1] ?? null;
  // As the CLI: the model handed out is the best validation epoch's; bring its weights back when
  // later steps changed them.
  let final: mg.EvalResult | null;
  if (best && bestWeights && (best.epoch !== last?.epoch || r.position.stepInEpoch > 0)) {
    mg.loadWeights(r.model, bestWeights, "the best epoch's weights");
    final = r.valIdx.length ? await mg.evaluate(r.model, r.set, r.valIdx, r.batchSize) : null;
  } else {
    final = await r.finalEvaluation();
  }
  const saved = best ?? last;
  const classes = s.classes;
  r.model.eval();
  const config = mg.makeModelConfig(r.model, classes, s.imageSize, {
    epochs: history.length, bestEpoch: saved?.epoch ?? null, valAccuracy: saved?.valAcc ?? null, seed: s.seed, resize: 'crop', trainedIn: 'browser',
  });
  current = { model: r.model, config, owned: false };
  if (r.done && store.hasStorage()) await checkpoint(r, seconds, true);
  const int8 = s.quantize && r.done ? await quantize(r, config) : null;
  const metrics: FinalMetrics = {
    epochs: history.length,
    epochs_planned: s.epochs,
    stopped: r.done ? 'completed' : 'stopped',
    val_accuracy: final?.accuracy ?? null,
    val_loss: final?.loss ?? null,
    train_loss: last?.trainLoss ?? null,
    train_accuracy: last?.trainAcc ?? null,
    images_per_second: r.imagesSeen / Math.max(r.trainSeconds, 1e-9),
    seconds,
    train_images: r.trainIdx.length,
    val_images: r.valIdx.length,
    image_size: s.imageSize,
    batch_size: r.batchSize,
    learning_rate: s.lr,
    classes,
    per_class_accuracy: Object.fromEntries(classes.map((c, i) => [c, final && Number.isFinite(final.perClassAccuracy[i]) ? final.perClassAccuracy[i]! : null])),
    saved_epoch: saved?.epoch ?? null,
    int8,
    history,
  };
  post({ type: 'finished', metrics, eval: final ? evalView(final, r.valIdx, r.set, dataset!.paths) : null });
}

/**
 * The int8 model of the trained weights, as `train --quantize` makes it (src/quant/pipeline.ts,
 * without the folder): calibrated on up to 300 training images, compared with the float model on
 * the validation images.
 */
async function quantize(r: mg.TrainingRun, floatConfig: mg.ModelConfig): Promise<FinalMetrics['int8']> {
  const model = r.model;
  const s = settings!;
  const calibIdx = mg.pickCalibration(r.set.labels, r.trainIdx, mg.DEFAULT_CALIBRATION_IMAGES, s.seed);
  const compareIdx = r.valIdx.length ? r.valIdx : calibIdx;
  post({ type: 'phase', text: `quantizing to int8 (calibrating on ${calibIdx.length} training images)` });
  model.eval();
  const { net } = await mg.quantizeModel(model, r.set, calibIdx, { method: mg.DEFAULT_RANGE_METHOD, batchSize: r.batchSize });
  const int8 = new mg.Int8Model(net);
  try {
    const k = floatConfig.numClasses;
    const labels = Int32Array.from(compareIdx, (i) => r.set.labels[i]!);
    const pf = mg.argmaxRows(await mg.predictProbabilities(model, r.set, compareIdx, r.batchSize), k);
    const pq = mg.argmaxRows(await mg.predictProbabilities(int8, r.set, compareIdx, r.batchSize), k);
    const cmp = mg.compareTop1(pf, pq, labels, k);
    const { weights, info } = mg.encodeInt8Weights(net, { method: mg.DEFAULT_RANGE_METHOD, images: calibIdx.length });
    const config: mg.ModelConfig = {
      ...floatConfig, precision: 'int8', quantization: info,
      training: { ...floatConfig.training, int8: { floatAccuracy: cmp.accuracyA, int8Accuracy: cmp.accuracyB, agreement: cmp.agreement, validationImages: cmp.count } },
    };
    int8Files = { weights, config: JSON.stringify(config, null, 2) + '\n' };
    return { bytes: weights.byteLength, float_accuracy: cmp.accuracyA, int8_accuracy: cmp.accuracyB, agreement: cmp.agreement, images: cmp.count };
  } finally {
    int8.release();
  }
}

function releaseCurrent(): void {
  if (current?.owned) current.model.release();
  current = null;
}

async function resumeSaved(): Promise<void> {
  await needGpu();
  post({ type: 'phase', text: 'reading the saved run from browser storage' });
  const saved = await store.loadRun();
  dataset = { ...saved.data, imageSize: saved.meta.settings.imageSize };
  const r = startRun({ ...saved.meta.settings, quantize: saved.meta.settings.quantize ?? false }, saved.checkpoint);
  bestWeights = best ? saved.best : null;
  if (r.done) {
    post({ type: 'started', settings: saved.meta.settings, trainImages: r.trainIdx.length, valImages: r.valIdx.length, stepsPerEpoch: r.stepsPerEpoch, resumedAt: r.position.epoch, history: r.position.history as unknown as mg.EpochMetrics[] });
    await finish(r, r.position.elapsedSeconds);
    return;
  }
  await trainLoop(r);
}

async function predict(files: File[]): Promise<Prediction[]> {
  if (!current) throw new Error('no model yet: train one or load a model (model.safetensors + config.json)');
  const { model, config } = current;
  const size = config.imageSize;
  const per = size * size * 3;
  const images = new Uint8Array(files.length * per);
  const ok: number[] = [];
  const errors = new Map<number, string>();
  for (let i = 0; i < files.length; i++) {
    try {
      await decodeToRgb(files[i]!, size, images.subarray(ok.length * per, (ok.length + 1) * per));
      ok.push(i);
    } catch (e) {
      errors.set(i, e instanceof Error ? e.message : String(e));
    }
  }
  model.eval();
  const k = config.numClasses;
  const probs = ok.length
    ? await mg.predictProbabilities(model, { images: images.subarray(0, ok.length * per), labels: new Int32Array(ok.length), imageSize: size }, [...ok.keys()], 16)
    : new Float32Array(0);
  return files.map((f, i) => {
    const j = ok.indexOf(i);
    if (j < 0) return { name: f.name, top: [], error: errors.get(i) };
    const row = Array.from(probs.subarray(j * k, (j + 1) * k));
    const top = row.map((p, c) => ({ className: config.classNames[c] ?? String(c), probability: p })).sort((a, b) => b.probability - a.probability).slice(0, 5);
    return { name: f.name, top };
  });
}

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'init':
      await initGpu();
      return;
    case 'decode':
      decodeJob = msg.job;
      dataset = null;
      await decode(msg.job, msg.files, msg.classes, msg.imageSize);
      return;
    case 'train': {
      if (training) throw new Error('a run is already training: stop it first');
      await needGpu();
      if (!dataset) throw new Error('no images decoded yet: choose a folder first');
      if (store.hasStorage()) {
        post({ type: 'phase', text: 'saving the images to browser storage' });
        try {
          await store.saveNewRun(msg.settings, dataset);
        } catch (e) {
          post({ type: 'error', context: 'storage', message: `browser storage refused the images (${e instanceof Error ? e.message : e}): training goes on, but a reload cannot resume it` });
        }
      }
      await trainLoop(startRun(msg.settings, null));
      return;
    }
    case 'pause':
      if (training && control === 'run') control = 'pause';
      return;
    case 'resume':
      if (control === 'pause') {
        control = 'run';
        wake?.();
      }
      return;
    case 'stop':
      if (training) {
        control = 'stop';
        wake?.();
      }
      return;
    case 'check-saved':
      try {
        post({ type: 'saved-run', info: store.hasStorage() ? await store.readMeta() : null });
      } catch (e) {
        post({ type: 'saved-run', info: null, error: e instanceof Error ? e.message : String(e) });
      }
      return;
    case 'resume-saved':
      if (training) throw new Error('a run is already training');
      await resumeSaved();
      return;
    case 'discard-saved':
      await store.discardRun();
      post({ type: 'saved-run', info: null });
      return;
    case 'export-model': {
      if (msg.precision === 'int8') {
        if (!int8Files) throw new Error('no int8 model: tick Quantize before training');
        const w = int8Files.weights.slice();
        post({ type: 'model-files', precision: 'int8', weights: w, config: int8Files.config }, [w.buffer]);
        return;
      }
      if (!current) throw new Error('no model to download yet: train one or load one');
      const files = current.files ?? (current.model instanceof mg.Int8Model ? null : await mg.encodeModel(current.model, current.config));
      if (!files) throw new Error('this model cannot be written back');
      const w = files.weights.slice();
      post({ type: 'model-files', precision: current.config.precision, weights: w, config: files.config }, [w.buffer]);
      return;
    }
    case 'load-model': {
      if (training) throw new Error('a run is training: stop it before loading another model');
      await needGpu();
      const config = mg.parseModelConfig(msg.config, 'config.json');
      const model = mg.decodeAnyModel(msg.weights, config, 'model.safetensors');
      releaseCurrent();
      current = { model, config, owned: true, files: { weights: msg.weights, config: msg.config } };
      post({ type: 'model-loaded', config, source: 'file' });
      return;
    }
    case 'predict':
      if (training) throw new Error('a run is training: wait for it to finish (or stop it) to try images');
      await needGpu();
      post({ type: 'predictions', results: await predict(msg.files) });
      return;
  }
}

scope.onmessage = (e) => {
  const msg = e.data;
  handle(msg).catch((err: unknown) => {
    if (!(err instanceof mg.MobilegradError)) console.error(err);
    post({ type: 'error', context: msg.type, message: err instanceof Error ? err.message : String(err) });
  });
};
