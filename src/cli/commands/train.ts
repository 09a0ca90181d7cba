/** `mobilegrad train`: options, progress display, Ctrl-C, summary. */
import { UsageError } from '../../data/usage-error.js';
import { DEFAULTS, type TrainOptions } from '../../train/options.js';
import { train } from '../../train/trainer.js';
import { helpText, parseArgs, requireFlag, type FlagSpec } from '../args.js';
import { Progress } from '../progress.js';
import { cmdProfileStep } from './train-profile.js';

const TRAIN_FLAGS: FlagSpec = {
  data: { type: 'string', help: 'folder with one subfolder of images per class (required)' },
  val: { type: 'string', help: 'separate validation folder with the same classes' },
  'val-split': { type: 'number', help: 'fraction held out for validation when --val is absent (0.2)' },
  'batch-size': { type: 'number', help: 'images per step (32; recommended 16-128)' },
  epochs: { type: 'number', help: 'passes over the data (10; recommended 10-100)' },
  lr: { type: 'string', help: "peak learning rate (0.001; recommended 5e-4 to 5e-3), or 'auto': the range test's suggestion (see lr-find)" },
  'image-size': { type: 'number', help: 'training resolution in pixels (224)' },
  quantize: { type: 'boolean', help: 'also write the int8 model (<out>/int8, ~1.6 MB), checked against the float one' },
  'qat-epochs': { type: 'number', help: 'with --quantize: quantization-aware training epochs when post-training quantization loses more than a point (0)' },
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
  resize: { type: 'string', help: 'non-square images: crop (centre square, default), squash (stretch) or pad (letterbox)' },
  patience: { type: 'number', help: 'stop after this many epochs without a better validation accuracy (off)' },
  'class-weights': { type: 'string', help: "'auto': weight the loss by inverse class frequency, for imbalanced data (none)" },
  'freeze-backbone': { type: 'boolean', help: 'with --pretrained: train the head only' },
  'head-epochs': { type: 'number', help: 'with --pretrained: head-only epochs before the whole network trains (a tenth of --epochs, at least 1)' },
  'backbone-lr-scale': { type: 'number', help: "with --pretrained: the backbone's learning rate as a fraction of the head's (0.1)" },
  'no-check': { type: 'boolean', help: 'skip the dataset check (imbalance, duplicates, leakage) at the start' },
  json: { type: 'boolean', help: 'print a final line of JSON with the summary' },
  profile: { type: 'boolean', help: 'profile one training step (per-kernel GPU table) instead of training' },
  trace: { type: 'string', help: 'with --profile: also write a Chrome trace (Perfetto, chrome://tracing) to this file' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function cmdTrain(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv, TRAIN_FLAGS, 'train');
  if (flags.help) return void process.stdout.write(helpText('train', '--data DIR [options]', TRAIN_FLAGS));
  const resume = flags.resume as string | undefined;
  const data = resume ? ((flags.data as string | undefined) ?? '') : requireFlag(flags, 'data', 'train');
  const recipe = (flags.recipe as string | undefined) ?? 'none';
  if (recipe !== 'auto' && recipe !== 'none') throw new UsageError(`--recipe must be 'auto' or 'none', got '${recipe}'`);
  const lrFlag = flags.lr as string | undefined;
  const lrAuto = lrFlag === 'auto';
  const lr = lrFlag === undefined || lrAuto ? DEFAULTS.lr : Number(lrFlag);
  if (!lrAuto && lrFlag !== undefined && (lrFlag.trim() === '' || !Number.isFinite(lr))) throw new UsageError(`--lr must be a number or 'auto', got '${lrFlag}'`);
  const o: Partial<TrainOptions> & { data: string } = {
    data,
    val: flags.val as string | undefined,
    valSplit: (flags['val-split'] as number | undefined) ?? DEFAULTS.valSplit,
    batchSize: (flags['batch-size'] as number | undefined) ?? DEFAULTS.batchSize,
    epochs: (flags.epochs as number | undefined) ?? DEFAULTS.epochs,
    lr,
    lrAuto,
    imageSize: (flags['image-size'] as number | undefined) ?? DEFAULTS.imageSize,
    quantize: Boolean(flags.quantize),
    qatEpochs: (flags['qat-epochs'] as number | undefined) ?? DEFAULTS.qatEpochs,
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
    resize: ((flags.resize as string | undefined) ?? DEFAULTS.resize) as TrainOptions['resize'],
    patience: (flags.patience as number | undefined) ?? DEFAULTS.patience,
    classWeights: ((flags['class-weights'] as string | undefined) ?? DEFAULTS.classWeights) as TrainOptions['classWeights'],
    freezeBackbone: Boolean(flags['freeze-backbone']),
    headEpochs: flags['head-epochs'] as number | undefined,
    backboneLrScale: (flags['backbone-lr-scale'] as number | undefined) ?? DEFAULTS.backboneLrScale,
    checkData: !flags['no-check'],
  };
  if (resume && !flags.data) delete (o as { data?: string }).data;
  if (flags.profile || flags.trace) return cmdProfileStep(o, Boolean(flags.profile), flags.trace as string | undefined);
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
  const m = s.metrics;
  const lines = [
    '',
    s.stopped === 'interrupted' ? `interrupted after ${s.epochsRun} complete epoch(s)`
      : s.stopped === 'early-stopped' ? `stopped early after ${s.epochsRun} epochs: no better validation accuracy for ${s.options.patience} epochs`
      : `done: ${s.epochsRun} epochs`,
    `validation accuracy: final ${pct(s.finalValAcc)}, best ${pct(s.bestValAcc)} (epoch ${s.bestEpoch}: the saved model)`,
    ...(m ? [`saved model: macro F1 ${pct(m.macro.f1)}, weighted F1 ${pct(m.weighted.f1)}${m.top5Accuracy !== undefined ? `, top-5 accuracy ${pct(m.top5Accuracy)}` : ''}`] : []),
    `per class (recall): ${Object.entries(s.perClassAccuracy).map(([c, a]) => `${c} ${pct(a)}`).join(', ')}`,
    `time ${s.seconds.toFixed(1)} s, ${s.imagesPerSecond.toFixed(1)} training images/s`,
    `model: ${s.outDir} (${(s.modelBytes / 1e6).toFixed(2)} MB float32); report: ${s.outDir}/report.html`,
    ...(s.int8 ? [`int8 model: ${s.int8.outDir} (${(s.int8.bytes / 1e6).toFixed(2)} MB): accuracy ${pct(s.int8.int8Accuracy)} vs float32 ${pct(s.int8.floatAccuracy)}, top-1 agreement ${pct(s.int8.agreement)} on ${s.int8.images} images${s.int8.qat ? ` (after ${s.int8.qat.epochs} QAT epoch(s); post-training ${pct(s.int8.qat.ptqAccuracy)})` : ''}`] : []),
  ];
  process.stderr.write(lines.join('\n') + '\n');
  if (flags.json) process.stdout.write(JSON.stringify(s) + '\n');
}
