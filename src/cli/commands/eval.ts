/** `mobilegrad eval`: accuracy, per-class accuracy and confusion matrix of a trained model. */
import { init } from '../../device/device.js';
import { loadImageFolder } from '../../data/dataset.js';
import { UsageError } from '../../data/usage-error.js';
import { evaluate } from '../../train/evaluate.js';
import { loadModel } from '../../train/model-files.js';
import { helpText, parseArgs, requireFlag, type FlagSpec } from '../args.js';

const EVAL_FLAGS: FlagSpec = {
  model: { type: 'string', help: 'model folder written by train (required)' },
  data: { type: 'string', help: 'folder of class subfolders, same classes as the model (required)' },
  'batch-size': { type: 'number', help: 'images per batch (32)' },
  json: { type: 'boolean', help: 'print JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function cmdEval(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv, EVAL_FLAGS, 'eval');
  if (flags.help) return void process.stdout.write(helpText('eval', '--model DIR --data DIR', EVAL_FLAGS));
  const dir = requireFlag(flags, 'model', 'eval');
  const dataDir = requireFlag(flags, 'data', 'eval');
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
