/** `mobilegrad quantize`: a trained float model to an int8 model, checked against the float one. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { init } from '../../device/device.js';
import { loadImageFolder } from '../../data/dataset.js';
import { UsageError } from '../../data/usage-error.js';
import { DEFAULT_RANGE_METHOD, type RangeMethod } from '../../quant/calibrate.js';
import { Int8Model } from '../../quant/int8-model.js';
import { quantizeToFolder } from '../../quant/pipeline.js';
import { DEFAULT_CALIBRATION_IMAGES, pickCalibration } from '../../quant/ptq.js';
import type { ImageSet } from '../../train/evaluate.js';
import { loadModel, MODEL_CONFIG } from '../../train/model-files.js';
import { helpText, parseArgs, requireFlag, type FlagSpec } from '../args.js';

const QUANTIZE_FLAGS: FlagSpec = {
  model: { type: 'string', help: 'float model folder written by train (required)' },
  calib: { type: 'string', help: 'folder of class subfolders (training images) to calibrate on (required)' },
  val: { type: 'string', help: 'folder of class subfolders to compare float and int8 on (default: the --calib folder)' },
  out: { type: 'string', help: 'output folder (default: <model>-int8)' },
  method: { type: 'string', help: "activation ranges: 'percentile' (default), 'mse' or 'minmax'" },
  'calib-images': { type: 'number', help: `images used for calibration (${DEFAULT_CALIBRATION_IMAGES})` },
  'max-drop': { type: 'number', help: 'largest accepted accuracy loss in points, else exit 1 (1.0)' },
  'qat-epochs': { type: 'number', help: 'quantization-aware training epochs on the --calib images when post-training quantization loses more than --max-drop (0)' },
  'batch-size': { type: 'number', help: 'images per batch (32)' },
  force: { type: 'boolean', help: 'overwrite an --out folder that holds a model' },
  json: { type: 'boolean', help: 'print a final line of JSON with the summary' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function cmdQuantize(argv: string[]): Promise<void> {
  const { flags, positional } = parseArgs(argv, QUANTIZE_FLAGS, 'quantize');
  if (flags.help) return void process.stdout.write(helpText('quantize', '--model DIR --calib DIR [--out DIR]', QUANTIZE_FLAGS));
  if (positional.length) throw new UsageError(`'quantize' takes no positional arguments (got '${positional[0]}'): see 'mobilegrad quantize --help'`);
  const dir = requireFlag(flags, 'model', 'quantize');
  const calibDir = requireFlag(flags, 'calib', 'quantize');
  const method = ((flags.method as string | undefined) ?? DEFAULT_RANGE_METHOD) as RangeMethod;
  if (!['mse', 'percentile', 'minmax'].includes(method)) throw new UsageError(`--method must be 'mse', 'percentile' or 'minmax', got '${method}'`);
  const calibCount = (flags['calib-images'] as number | undefined) ?? DEFAULT_CALIBRATION_IMAGES;
  if (!Number.isInteger(calibCount) || calibCount < 1) throw new UsageError(`--calib-images must be a positive whole number, got ${calibCount}: for example --calib-images 300`);
  const maxDrop = (flags['max-drop'] as number | undefined) ?? 1.0;
  if (!(maxDrop >= 0)) throw new UsageError(`--max-drop must be zero or positive, got ${maxDrop}`);
  const qatEpochs = (flags['qat-epochs'] as number | undefined) ?? 0;
  if (!Number.isInteger(qatEpochs) || qatEpochs < 0) throw new UsageError(`--qat-epochs must be a whole number of epochs, got ${qatEpochs}: for example --qat-epochs 2`);
  const batchSize = (flags['batch-size'] as number | undefined) ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`--batch-size must be a positive whole number, got ${batchSize}`);
  const out = resolve((flags.out as string | undefined) ?? `${dir.replace(/\/+$/, '')}-int8`);
  if (!flags.force && existsSync(resolve(out, MODEL_CONFIG))) throw new UsageError(`--out ${out} already holds a model: use --force to overwrite it, or another --out`);

  await init();
  let loaded;
  try {
    loaded = await loadModel(dir);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { model, config } = loaded;
  if (model instanceof Int8Model) {
    model.release();
    throw new UsageError(`--model ${dir} is already an int8 model: quantize the float model it came from`);
  }
  const load = async (d: string, flag: string) => {
    const data = await loadImageFolder(d, { imageSize: config.imageSize, allowSmall: true, minImages: 1 });
    if (data.classes.join('\n') !== config.classNames.join('\n')) {
      throw new UsageError(`${flag} ${d} has classes [${data.classes.join(', ')}], the model was trained on [${config.classNames.join(', ')}]`);
    }
    for (const s of data.skipped) process.stderr.write(`warning: skipped ${s.path} (${s.reason})\n`);
    return data;
  };
  const calib = await load(calibDir, '--calib');
  const val = flags.val ? await load(flags.val as string, '--val') : calib;
  // One image set: calibration images first, then validation images (when a separate folder).
  const images = val === calib ? calib.images : concat(calib.images, val.images);
  const labels = val === calib ? calib.labels : Int32Array.from([...calib.labels, ...val.labels]);
  const set: ImageSet = { images, labels, imageSize: config.imageSize };
  const all = [...Array(calib.count).keys()];
  const calibIdx = pickCalibration(calib.labels, all, calibCount, 0);
  const valIdx = val === calib ? all : Array.from({ length: val.count }, (_, i) => calib.count + i);
  if (val === calib) process.stderr.write(`note: no --val folder: comparing on the --calib images (${calib.count}), which include the ${calibIdx.length} calibration images\n`);
  const summary = await quantizeToFolder(
    { model, config, set, calibIdx, valIdx, outDir: out, method, batchSize, maxDrop, qatEpochs, qatIdx: all, log: (l) => process.stderr.write(l + '\n') },
    dir,
  );
  model.release();
  if (flags.json) process.stdout.write(JSON.stringify(summary) + '\n');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
