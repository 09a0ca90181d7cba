/** `mobilegrad check`: the dataset check, before any training. */
import { checkDataset, formatCheck, type CheckedImage } from '../../data/dataset-check.js';
import { inspectImageFolder } from '../../data/inspect-folder.js';
import { stratifiedSplit } from '../../data/split.js';
import { UsageError } from '../../data/usage-error.js';
import { DEFAULTS } from '../../train/options.js';
import { helpText, parseArgs, requireFlag, type FlagSpec } from '../args.js';

const CHECK_FLAGS: FlagSpec = {
  data: { type: 'string', help: 'folder with one subfolder of images per class (required)' },
  val: { type: 'string', help: 'separate validation folder (checked for leakage against --data)' },
  'val-split': { type: 'number', help: 'without --val: the split train would make, checked for leakage (0.2)' },
  seed: { type: 'number', help: 'seed of that split, as given to train (0)' },
  'image-size': { type: 'number', help: 'training resolution: count images smaller than it (optional)' },
  'phash-distance': { type: 'number', help: 'near-duplicate threshold in pHash bits of 64 (10; 0 = exact copies only)' },
  json: { type: 'boolean', help: 'print the whole report as JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function cmdCheck(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv, CHECK_FLAGS, 'check');
  if (flags.help) return void process.stdout.write(helpText('check', '--data DIR [--val DIR] [options]', CHECK_FLAGS));
  const dataDir = requireFlag(flags, 'data', 'check');
  const valSplit = (flags['val-split'] as number | undefined) ?? DEFAULTS.valSplit;
  if (!(valSplit >= 0 && valSplit < 1)) throw new UsageError(`--val-split must be in [0, 1), got ${valSplit}: for example --val-split 0.2`);
  const seed = (flags.seed as number | undefined) ?? DEFAULTS.seed;
  const maxHamming = (flags['phash-distance'] as number | undefined) ?? undefined;
  if (maxHamming !== undefined && !(Number.isInteger(maxHamming) && maxHamming >= 0 && maxHamming <= 32)) {
    throw new UsageError(`--phash-distance must be a whole number from 0 to 32, got ${maxHamming}: for example --phash-distance 10`);
  }
  const imageSize = flags['image-size'] as number | undefined;
  const progress = (label: string) => (done: number, total: number) => {
    if (process.stderr.isTTY && (done === total || done % 50 === 0)) process.stderr.write(`\r${label}: ${done}/${total} images${done === total ? '\n' : ''}`);
  };

  const data = await inspectImageFolder(dataDir, { onProgress: progress('reading') });
  let images: CheckedImage[];
  const undecodable = [...data.undecodable];
  if (typeof flags.val === 'string') {
    const val = await inspectImageFolder(flags.val, { onProgress: progress('reading validation') });
    if (val.classes.join('\n') !== data.classes.join('\n')) {
      throw new UsageError(`--val ${flags.val} has classes [${val.classes.join(', ')}] but --data has [${data.classes.join(', ')}]: both need the same class folders`);
    }
    undecodable.push(...val.undecodable);
    images = [
      ...data.images.map((im): CheckedImage => ({ ...im, split: 'train' })),
      ...val.images.map((im): CheckedImage => ({ ...im, split: 'val' })),
    ];
  } else {
    // The same split `train` makes: same readable images, same order, same seed.
    const split = stratifiedSplit(data.images.map((im) => im.label), valSplit, seed);
    const isVal = new Set(split.val);
    images = data.images.map((im, i): CheckedImage => ({ ...im, split: isVal.has(i) ? 'val' : 'train' }));
  }
  const report = checkDataset({ classes: data.classes, images, undecodable, imageSize, duplicates: { maxHamming } });
  if (flags.json) {
    process.stdout.write(JSON.stringify(report) + '\n');
    return;
  }
  const source = typeof flags.val === 'string' ? `--data ${dataDir}, --val ${flags.val}` : `${dataDir} (validation: the seed-${seed} split of ${valSplit} that train makes)`;
  process.stdout.write(`dataset check of ${source}\n\n${formatCheck(report)}`);
}
