/** `mobilegrad export --format onnx`: the model as ONNX (float32, or int8 QDQ), checked against the model. */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { init } from '../../device/device.js';
import { loadImageFolder } from '../../data/dataset.js';
import { UsageError } from '../../data/usage-error.js';
import { exportOnnx } from '../../export/export-onnx.js';
import { loadModel } from '../../train/model-files.js';
import { helpText, parseArgs, requireFlag, type FlagSpec } from '../args.js';

const EXPORT_FLAGS: FlagSpec = {
  model: { type: 'string', help: 'model folder (float from train, or int8 from quantize) (required)' },
  format: { type: 'string', help: "'onnx' (required)" },
  out: { type: 'string', help: 'output file (default: <model>/model.onnx)' },
  data: { type: 'string', help: 'labelled images (class subfolders) to check the export on (required unless --no-check)' },
  'check-images': { type: 'number', help: 'images of --data used for the check (all)' },
  'no-check': { type: 'boolean', help: 'write the file without running it' },
  json: { type: 'boolean', help: 'print a final line of JSON with the result' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function cmdExport(argv: string[]): Promise<void> {
  const { flags, positional } = parseArgs(argv, EXPORT_FLAGS, 'export');
  if (flags.help) return void process.stdout.write(helpText('export', '--model DIR --format onnx [--out FILE] --data DIR', EXPORT_FLAGS));
  if (positional.length) throw new UsageError(`'export' takes no positional arguments (got '${positional[0]}'): see 'mobilegrad export --help'`);
  const dir = requireFlag(flags, 'model', 'export');
  const format = requireFlag(flags, 'format', 'export');
  if (format !== 'onnx') throw new UsageError(`--format must be 'onnx', got '${format}'`);
  if (!flags['no-check'] && !flags.data) throw new UsageError("'export' needs --data DIR (labelled images, e.g. the validation folder) to check the exported model against the source; or --no-check");
  const out = resolve((flags.out as string | undefined) ?? join(dir, 'model.onnx'));
  if (existsSync(out) && statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a folder: give a file name, e.g. ${join(out, 'model.onnx')}`);
  const limit = flags['check-images'] as number | undefined;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError(`--check-images must be a positive whole number, got ${limit}`);

  await init();
  let loaded;
  try {
    loaded = await loadModel(dir);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { model, config } = loaded;
  let check = null;
  if (!flags['no-check']) {
    const data = await loadImageFolder(flags.data as string, { imageSize: config.imageSize, allowSmall: true, minImages: 1 });
    if (data.classes.join('\n') !== config.classNames.join('\n')) {
      throw new UsageError(`--data ${flags.data} has classes [${data.classes.join(', ')}], the model was trained on [${config.classNames.join(', ')}]`);
    }
    const idx = [...Array(Math.min(data.count, limit ?? data.count)).keys()];
    check = { set: { images: data.images, labels: data.labels, imageSize: config.imageSize }, idx };
  }
  const r = await exportOnnx(model, config, dir, out, check, (l) => process.stderr.write(l + '\n'));
  model.release();
  if (flags.json) process.stdout.write(JSON.stringify(r) + '\n');
}
