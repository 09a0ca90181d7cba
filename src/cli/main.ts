/**
 * `mobilegrad`: train, eval, predict, info. Bad input gets one line naming the problem and the fix,
 * exit code 2, no stack trace; a GPU or runtime failure exits 1 with its message.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { init } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import { loadImageFolder } from '../data/dataset.js';
import { decodeImage } from '../data/decode-image.js';
import { resizeRgb } from '../data/resize.js';
import { UsageError } from '../data/usage-error.js';
import { describeMobileNetV3Small } from '../models/mobilenet-v3-config.js';
import { evaluate, predictProbabilities } from '../train/evaluate.js';
import { loadModel } from '../train/model-files.js';
import { DEFAULTS, type TrainOptions } from '../train/options.js';
import { train } from '../train/trainer.js';
import { helpText, parseArgs, type FlagSpec } from './args.js';
import { Progress } from './progress.js';

const TRAIN_FLAGS: FlagSpec = {
  data: { type: 'string', help: 'folder with one subfolder of images per class (required)' },
  val: { type: 'string', help: 'separate validation folder with the same classes' },
  'val-split': { type: 'number', help: 'fraction held out for validation when --val is absent (0.2)' },
  'batch-size': { type: 'number', help: 'images per step (32; recommended 16-128)' },
  epochs: { type: 'number', help: 'passes over the data (10; recommended 10-100)' },
  lr: { type: 'number', help: 'peak learning rate (0.001; recommended 5e-4 to 5e-3)' },
  'image-size': { type: 'number', help: 'training resolution in pixels (224)' },
  quantize: { type: 'boolean', help: 'int8 model at the end (not available yet)' },
  recipe: { type: 'string', help: "'auto' picks lr, epochs, batch size and augmentation from the dataset size" },
  out: { type: 'string', help: 'output folder (runs/<timestamp>)' },
  seed: { type: 'number', help: 'random seed; same seed, same adapter, same metrics (0)' },
  resume: { type: 'string', help: 'continue the run in this folder from its last checkpoint' },
  force: { type: 'boolean', help: 'overwrite an --out folder that holds another run' },
  'allow-small': { type: 'boolean', help: 'train on fewer than 200 images' },
  pretrained: { type: 'string', help: 'safetensors weights (torchvision or timm names) to start from' },
  'label-smoothing': { type: 'number', help: 'label smoothing (0.1)' },
  'weight-decay': { type: 'number', help: 'AdamW weight decay on conv/linear weights (0.01)' },
  'bn-momentum': { type: 'number', help: "BatchNorm running-statistics momentum (torchvision's 0.01)" },
  'no-bn-recalibrate': { type: 'boolean', help: 'skip recomputing BatchNorm statistics before each evaluation' },
  json: { type: 'boolean', help: 'print a final line of JSON with the summary' },
  help: { type: 'boolean', help: 'show this help' },
};

const EVAL_FLAGS: FlagSpec = {
  model: { type: 'string', help: 'model folder written by train (required)' },
  data: { type: 'string', help: 'folder of class subfolders, same classes as the model (required)' },
  'batch-size': { type: 'number', help: 'images per batch (32)' },
  json: { type: 'boolean', help: 'print JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

const PREDICT_FLAGS: FlagSpec = {
  model: { type: 'string', help: 'model folder written by train (required)' },
  top: { type: 'number', help: 'classes to show per image (5)' },
  json: { type: 'boolean', help: 'print JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

const INFO_FLAGS: FlagSpec = {
  classes: { type: 'number', help: 'number of classes (1000)' },
  'image-size': { type: 'number', help: 'input resolution (224)' },
  'width-multiplier': { type: 'number', help: 'channel width multiplier (1.0)' },
  json: { type: 'boolean', help: 'print JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

const USAGE = `usage: mobilegrad <command> [options]

commands:
  train     train MobileNetV3-Small on a folder of images (class = subfolder)
  eval      accuracy, per-class accuracy and confusion matrix of a trained model
  predict   top-5 classes of images
  info      the architecture table, parameters and multiply-adds
run 'mobilegrad <command> --help' for its options.
`;

function need(flags: Record<string, unknown>, name: string, command: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || !v) throw new UsageError(`'${command}' needs --${name}: see 'mobilegrad ${command} --help'`);
  return v;
}

async function cmdTrain(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv, TRAIN_FLAGS, 'train');
  if (flags.help) return void process.stdout.write(helpText('train', '--data DIR [options]', TRAIN_FLAGS));
  const resume = flags.resume as string | undefined;
  const data = resume ? ((flags.data as string | undefined) ?? '') : need(flags, 'data', 'train');
  const recipe = (flags.recipe as string | undefined) ?? 'none';
  if (recipe !== 'auto' && recipe !== 'none') throw new UsageError(`--recipe must be 'auto' or 'none', got '${recipe}'`);
  const o: Partial<TrainOptions> & { data: string } = {
    data,
    val: flags.val as string | undefined,
    valSplit: (flags['val-split'] as number | undefined) ?? DEFAULTS.valSplit,
    batchSize: (flags['batch-size'] as number | undefined) ?? DEFAULTS.batchSize,
    epochs: (flags.epochs as number | undefined) ?? DEFAULTS.epochs,
    lr: (flags.lr as number | undefined) ?? DEFAULTS.lr,
    imageSize: (flags['image-size'] as number | undefined) ?? DEFAULTS.imageSize,
    quantize: Boolean(flags.quantize),
    recipe,
    out: flags.out as string | undefined,
    seed: (flags.seed as number | undefined) ?? DEFAULTS.seed,
    resume,
    force: Boolean(flags.force),
    allowSmall: Boolean(flags['allow-small']),
    pretrained: flags.pretrained as string | undefined,
    labelSmoothing: (flags['label-smoothing'] as number | undefined) ?? DEFAULTS.labelSmoothing,
    weightDecay: (flags['weight-decay'] as number | undefined) ?? DEFAULTS.weightDecay,
    bnMomentum: (flags['bn-momentum'] as number | undefined) ?? DEFAULTS.bnMomentum,
    bnRecalibrate: !flags['no-bn-recalibrate'],
  };
  if (resume && !flags.data) delete (o as { data?: string }).data;
  const progress = new Progress();
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\nstopping after this step (Ctrl-C again to quit without saving)...\n');
  };
  process.on('SIGINT', onSigint);
  const s = await train(o, {
    onInfo: (m) => process.stderr.write(m + '\n'),
    onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    onStep: (x) => progress.step(x),
    onEpoch: (m) => progress.epoch(m),
    shouldStop: () => stop,
  });
  process.off('SIGINT', onSigint);
  const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');
  const lines = [
    '',
    s.stopped === 'interrupted' ? `interrupted after ${s.epochsRun} complete epoch(s)` : `done: ${s.epochsRun} epochs`,
    `validation accuracy: final ${pct(s.finalValAcc)}, best ${pct(s.bestValAcc)} (epoch ${s.bestEpoch})`,
    `per class: ${Object.entries(s.perClassAccuracy).map(([c, a]) => `${c} ${pct(a)}`).join(', ')}`,
    `time ${s.seconds.toFixed(1)} s, ${s.imagesPerSecond.toFixed(1)} training images/s`,
    `model: ${s.outDir} (${(s.modelBytes / 1e6).toFixed(2)} MB float32)`,
  ];
  process.stderr.write(lines.join('\n') + '\n');
  if (flags.json) process.stdout.write(JSON.stringify(s) + '\n');
}

async function cmdEval(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv, EVAL_FLAGS, 'eval');
  if (flags.help) return void process.stdout.write(helpText('eval', '--model DIR --data DIR', EVAL_FLAGS));
  const dir = need(flags, 'model', 'eval');
  const dataDir = need(flags, 'data', 'eval');
  await init();
  const { model, config } = await loadModel(dir);
  const data = await loadImageFolder(dataDir, { imageSize: config.imageSize, allowSmall: true, minImages: 1 });
  if (data.classes.join('\n') !== config.classNames.join('\n')) {
    throw new UsageError(`--data ${dataDir} has classes [${data.classes.join(', ')}], the model was trained on [${config.classNames.join(', ')}]`);
  }
  const r = await evaluate(model, { images: data.images, labels: data.labels, imageSize: config.imageSize }, [...Array(data.count).keys()], (flags['batch-size'] as number | undefined) ?? 32);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ accuracy: r.accuracy, loss: r.loss, count: r.count, perClass: Object.fromEntries(config.classNames.map((c, i) => [c, r.perClassAccuracy[i]])), confusion: r.confusion }) + '\n');
    return;
  }
  const w = Math.max(...config.classNames.map((c) => c.length));
  process.stdout.write(`accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.count} images, loss ${r.loss.toFixed(4)}\n\nper class:\n`);
  config.classNames.forEach((c, i) => process.stdout.write(`  ${c.padEnd(w)}  ${(100 * r.perClassAccuracy[i]!).toFixed(1)}%\n`));
  process.stdout.write('\nconfusion matrix (rows: true class, columns: predicted):\n');
  r.confusion.forEach((row, i) => process.stdout.write(`  ${config.classNames[i]!.padEnd(w)} ${row.map((v) => String(v).padStart(5)).join('')}\n`));
  for (const s of data.skipped) process.stderr.write(`warning: skipped ${s.path} (${s.reason})\n`);
}

async function cmdPredict(argv: string[]): Promise<void> {
  const { flags, positional } = parseArgs(argv, PREDICT_FLAGS, 'predict');
  if (flags.help) return void process.stdout.write(helpText('predict', '--model DIR IMAGE...', PREDICT_FLAGS));
  const dir = need(flags, 'model', 'predict');
  if (positional.length === 0) throw new UsageError("'predict' needs at least one image file: mobilegrad predict --model DIR IMAGE...");
  const top = Math.max(1, Math.floor((flags.top as number | undefined) ?? 5));
  const images: Uint8Array[] = [];
  for (const p of positional) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(p));
    } catch {
      throw new UsageError(`cannot read image ${p}: file not found or unreadable`);
    }
    let img;
    try {
      img = decodeImage(bytes, p);
    } catch (e) {
      throw new UsageError(`cannot decode ${p}: ${(e as Error).message}`);
    }
    images.push(img as unknown as Uint8Array);
  }
  await init();
  const { model, config } = await loadModel(dir);
  const size = config.imageSize;
  const per = size * size * 3;
  const all = new Uint8Array(images.length * per);
  images.forEach((img, i) => {
    const d = img as unknown as { width: number; height: number; rgb: Uint8Array };
    all.set(resizeRgb(d.rgb, d.width, d.height, size), i * per);
  });
  const probs = await predictProbabilities(model, { images: all, labels: new Int32Array(images.length), imageSize: size }, [...images.keys()], 32);
  const k = config.numClasses;
  const results = positional.map((p, i) => {
    const row = Array.from(probs.subarray(i * k, (i + 1) * k));
    const order = row.map((v, c) => [v, c] as const).sort((a, b) => b[0] - a[0]).slice(0, Math.min(top, k));
    return { image: p, top: order.map(([v, c]) => ({ class: config.classNames[c]!, probability: v })) };
  });
  if (flags.json) {
    process.stdout.write(JSON.stringify(results) + '\n');
    return;
  }
  for (const r of results) {
    process.stdout.write(`${basename(r.image)}\n`);
    for (const t of r.top) process.stdout.write(`  ${(100 * t.probability).toFixed(1).padStart(5)}%  ${t.class}\n`);
  }
}

async function cmdInfo(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv, INFO_FLAGS, 'info');
  if (flags.help) return void process.stdout.write(helpText('info', '[--classes N] [--image-size N]', INFO_FLAGS));
  const classes = (flags.classes as number | undefined) ?? 1000;
  const size = (flags['image-size'] as number | undefined) ?? 224;
  const width = (flags['width-multiplier'] as number | undefined) ?? 1;
  if (!Number.isInteger(classes) || classes < 2) throw new UsageError(`--classes must be a whole number of at least 2, got ${classes}`);
  if (!Number.isInteger(size) || size < 32) throw new UsageError(`--image-size must be a whole number of at least 32, got ${size}`);
  if (!(width > 0)) throw new UsageError(`--width-multiplier must be positive, got ${width}`);
  const d = describeMobileNetV3Small({ numClasses: classes, widthMultiplier: width }, size);
  if (flags.json) return void process.stdout.write(JSON.stringify(d) + '\n');
  const rows = d.layers.map((l) => `${l.name.padEnd(24)} ${l.kind.padEnd(10)} ${(l.kind === 'linear' ? '-' : `${l.kernel}x${l.kernel}`).padEnd(6)} ${String(l.stride).padEnd(3)} ${`(${l.inShape.join(', ')})`.padEnd(17)} ${`(${l.outShape.join(', ')})`.padEnd(17)} ${String(l.params).padStart(9)} ${String(l.macs).padStart(11)}`);
  process.stdout.write(`MobileNetV3-Small, ${classes} classes, ${size}x${size} input, width ${width}\n\n`);
  process.stdout.write(`${'layer'.padEnd(24)} ${'kind'.padEnd(10)} ${'k'.padEnd(6)} ${'s'.padEnd(3)} ${'in (C,H,W)'.padEnd(17)} ${'out (C,H,W)'.padEnd(17)} ${'params'.padStart(9)} ${'MACs'.padStart(11)}\n`);
  process.stdout.write(rows.join('\n') + '\n\n');
  process.stdout.write(`parameters: ${d.params.toLocaleString('en-US')}\nmultiply-adds (batch 1): ${d.macs.toLocaleString('en-US')}\nfloat32 model: ${((d.params * 4) / 1e6).toFixed(2)} MB\n`);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'train':
        await cmdTrain(rest);
        break;
      case 'eval':
        await cmdEval(rest);
        break;
      case 'predict':
        await cmdPredict(rest);
        break;
      case 'info':
        await cmdInfo(rest);
        break;
      case 'quantize':
        throw new UsageError("'quantize' is not available yet: int8 quantization is planned (issue 6)");
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        break;
      default:
        throw new UsageError(`unknown command '${command}': run 'mobilegrad help' for the commands`);
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`mobilegrad: ${e.message}\n`);
      return 2;
    }
    if (e instanceof MobilegradError) {
      process.stderr.write(`mobilegrad: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`mobilegrad: internal error: ${(e as Error)?.message ?? e}\n`);
    if (process.env.MOBILEGRAD_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return 1;
  }
}

// Exit explicitly: Dawn keeps the event loop alive.
main(process.argv.slice(2)).then((code) => process.exit(code));
