/** `mobilegrad eval`: accuracy, per-class precision/recall/F1, averages and confusion matrix of a trained model. */
import { init } from '../../device/device.js';
import { loadImageFolder } from '../../data/dataset.js';
import { UsageError } from '../../data/usage-error.js';
import { RESIZE_MODES, type ResizeMode } from '../../data/resize.js';
import { evaluate } from '../../train/evaluate.js';
import { classificationMetrics } from '../../train/metrics.js';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, MODEL_WEIGHTS } from '../../train/model-files.js';
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
  // Images are made square the way the model was trained (config.json's training.resize).
  const trainedResize = config.training?.resize as ResizeMode | undefined;
  const resize = trainedResize && RESIZE_MODES.includes(trainedResize) ? trainedResize : 'crop';
  const data = await loadImageFolder(dataDir, { imageSize: config.imageSize, resize, allowSmall: true, minImages: 1 });
  if (data.classes.join('\n') !== config.classNames.join('\n')) {
    throw new UsageError(`--data ${dataDir} has classes [${data.classes.join(', ')}], the model was trained on [${config.classNames.join(', ')}]`);
  }
  const r = await evaluate(model, { images: data.images, labels: data.labels, imageSize: config.imageSize }, [...Array(data.count).keys()], (flags['batch-size'] as number | undefined) ?? 32);
  const m = classificationMetrics(r.confusion, config.classNames, { loss: r.loss, probabilities: r.probabilities, labels: data.labels });
  if (flags.json) {
    process.stdout.write(JSON.stringify({ accuracy: r.accuracy, loss: r.loss, count: r.count, perClass: Object.fromEntries(config.classNames.map((c, i) => [c, r.perClassAccuracy[i]])), confusion: r.confusion, metrics: m }) + '\n');
    return;
  }
  const w = Math.max(16, ...config.classNames.map((c) => c.length));
  const p = (v: number) => `${(100 * v).toFixed(1)}%`.padStart(10);
  process.stdout.write(`model: ${dir} (${config.precision === 'int8' ? 'int8' : 'float32'}, ${(statSync(join(dir, MODEL_WEIGHTS)).size / 1e6).toFixed(2)} MB)\n`);
  process.stdout.write(`accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.count} images, loss ${r.loss.toFixed(4)}${m.top5Accuracy !== undefined ? `, top-5 accuracy ${(100 * m.top5Accuracy).toFixed(2)}%` : ''}\n\n`);
  process.stdout.write(`  ${''.padEnd(w)} ${'precision'.padStart(10)}${'recall'.padStart(10)}${'F1'.padStart(10)}${'support'.padStart(9)}\n`);
  for (const c of m.perClass) process.stdout.write(`  ${c.class.padEnd(w)} ${p(c.precision)}${p(c.recall)}${p(c.f1)}${String(c.support).padStart(9)}\n`);
  process.stdout.write(`  ${'macro average'.padEnd(w)} ${p(m.macro.precision)}${p(m.macro.recall)}${p(m.macro.f1)}${String(m.count).padStart(9)}\n`);
  process.stdout.write(`  ${'weighted average'.padEnd(w)} ${p(m.weighted.precision)}${p(m.weighted.recall)}${p(m.weighted.f1)}${String(m.count).padStart(9)}\n`);
  process.stdout.write('\nconfusion matrix (rows: true class, columns: predicted):\n');
  r.confusion.forEach((row, i) => process.stdout.write(`  ${config.classNames[i]!.padEnd(w)} ${row.map((v) => String(v).padStart(5)).join('')}\n`));
  for (const s of data.skipped) process.stderr.write(`warning: skipped ${s.path} (${s.reason})\n`);
}
