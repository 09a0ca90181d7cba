/** `mobilegrad lr-find`: the learning-rate range test; a chart and a suggested learning rate. */
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { init } from '../../device/device.js';
import { recommendRecipe } from '../../data/recipe.js';
import { UsageError } from '../../data/usage-error.js';
import { loadWeights } from '../../models/weights.js';
import { drawLrFind, formatLr } from '../../report/lr-find-chart.js';
import { writeFileAtomic } from '../../report/write-file-atomic.js';
import { balancedClassWeights } from '../../train/class-weights.js';
import { defaultHeadEpochs } from '../../train/fine-tune.js';
import { lrFind } from '../../train/lr-find.js';
import { checkOptions, DEFAULTS, type TrainOptions } from '../../train/options.js';
import { prepareData } from '../../train/prepare-data.js';
import { helpText, parseArgs, requireFlag, type FlagSpec } from '../args.js';

const LR_FIND_FLAGS: FlagSpec = {
  data: { type: 'string', help: 'folder with one subfolder of images per class (required)' },
  out: { type: 'string', help: 'folder for lr-find.png and lr-find.json (runs/lr-find-<time>)' },
  steps: { type: 'number', help: 'training steps of the test (200)' },
  'start-lr': { type: 'number', help: 'learning rate of the first step (1e-7)' },
  'end-lr': { type: 'number', help: 'learning rate of the last step (10)' },
  'batch-size': { type: 'number', help: 'images per step, as you will train (32)' },
  'image-size': { type: 'number', help: 'training resolution, as you will train (224)' },
  resize: { type: 'string', help: 'crop, squash or pad (crop)' },
  'val-split': { type: 'number', help: 'held out as train would hold it out, not used by the test (0.2)' },
  seed: { type: 'number', help: 'random seed (0)' },
  pretrained: { type: 'string', help: 'safetensors weights to start from, as train --pretrained' },
  'freeze-backbone': { type: 'boolean', help: 'with --pretrained: test the head alone' },
  'class-weights': { type: 'string', help: "'auto' as train --class-weights auto" },
  'allow-small': { type: 'boolean', help: 'accept fewer than 200 images' },
  json: { type: 'boolean', help: 'print the result as JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

function timestamp(): string {
  return new Date().toISOString().replace(/[:T]/g, '-').replace(/\..*/, '');
}

export async function cmdLrFind(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv, LR_FIND_FLAGS, 'lr-find');
  if (flags.help) return void process.stdout.write(helpText('lr-find', '--data DIR [options]', LR_FIND_FLAGS));
  const o: TrainOptions = {
    ...DEFAULTS,
    data: requireFlag(flags, 'data', 'lr-find'),
    batchSize: (flags['batch-size'] as number | undefined) ?? DEFAULTS.batchSize,
    imageSize: (flags['image-size'] as number | undefined) ?? DEFAULTS.imageSize,
    resize: ((flags.resize as string | undefined) ?? DEFAULTS.resize) as TrainOptions['resize'],
    valSplit: (flags['val-split'] as number | undefined) ?? DEFAULTS.valSplit,
    seed: (flags.seed as number | undefined) ?? DEFAULTS.seed,
    pretrained: flags.pretrained as string | undefined,
    freezeBackbone: Boolean(flags['freeze-backbone']),
    classWeights: ((flags['class-weights'] as string | undefined) ?? 'none') as TrainOptions['classWeights'],
    allowSmall: Boolean(flags['allow-small']),
  };
  checkOptions(o);
  const steps = (flags.steps as number | undefined) ?? 200;
  const startLr = (flags['start-lr'] as number | undefined) ?? 1e-7;
  const endLr = (flags['end-lr'] as number | undefined) ?? 10;
  if (!(Number.isInteger(steps) && steps >= 10)) throw new UsageError(`--steps must be a whole number of at least 10, got ${steps}: for example --steps 200`);
  if (!(startLr > 0 && endLr > startLr)) throw new UsageError(`--start-lr and --end-lr must satisfy 0 < start < end, got ${startLr} and ${endLr}`);
  let pretrained: Uint8Array | null = null;
  if (o.pretrained) {
    try {
      pretrained = new Uint8Array(await readFile(o.pretrained));
    } catch {
      throw new UsageError(`--pretrained ${o.pretrained}: file not found or unreadable`);
    }
  }
  const out = resolve((flags.out as string | undefined) ?? join('runs', `lr-find-${timestamp()}`));
  const prep = await prepareData(o);
  await init();
  await mkdir(out, { recursive: true });
  const recipe = recommendRecipe(prep.trainIdx.length + prep.valIdx.length);
  const tty = process.stderr.isTTY;
  const result = await lrFind({
    classes: prep.classes, imageSize: o.imageSize, batchSize: o.batchSize, epochs: 1, lr: startLr, labelSmoothing: o.labelSmoothing,
    weightDecay: o.weightDecay, bnMomentum: o.bnMomentum, bnRecalibrate: false, augmentation: recipe.augmentation, seed: o.seed, options: {},
    classWeights: o.classWeights === 'auto' ? balancedClassWeights(prep.set.labels, prep.trainIdx, prep.classes.length) : undefined,
    fineTune: o.pretrained ? { headEpochs: o.freezeBackbone ? 1 : defaultHeadEpochs(10), backboneLrScale: o.backboneLrScale, freezeBackbone: o.freezeBackbone } : undefined,
  }, prep.set, prep.trainIdx, {
    steps, startLr, endLr,
    prepare: (run) => { if (pretrained) loadWeights(run.model, pretrained, o.pretrained); },
    onStep: (i, n, lr, loss) => { if (tty) process.stderr.write(`\rstep ${i + 1}/${n}  lr ${formatLr(lr)}  loss ${loss.toFixed(4)}   `); },
  });
  if (tty) process.stderr.write('\n');
  if (!(result.suggestion > 0)) throw new UsageError('the loss never fell during the test: check the labels, or try a larger --end-lr or more --steps');
  await writeFileAtomic(join(out, 'lr-find.png'), drawLrFind(result));
  await writeFileAtomic(join(out, 'lr-find.json'), JSON.stringify(result, null, 2) + '\n');
  if (flags.json) {
    process.stdout.write(JSON.stringify({ ...result, out }) + '\n');
    return;
  }
  const lr = Number(result.suggestion.toPrecision(2));
  process.stdout.write([
    `${result.lrs.length} steps from lr ${formatLr(startLr)}${result.diverged ? `; the loss diverged at lr ${formatLr(result.lrs[result.lrs.length - 1]!)}` : ''}`,
    `lowest smoothed loss at lr ${formatLr(result.minLossLr)}; steepest descent at lr ${formatLr(result.steepestLr)}`,
    `suggested learning rate: ${formatLr(lr)} (train with --lr ${lr}, or --lr auto to run this test first)`,
    `chart: ${join(out, 'lr-find.png')}`,
  ].join('\n') + '\n');
}
