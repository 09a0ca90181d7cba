/** `mobilegrad predict`: top classes of image files. */
import { readFile } from 'node:fs/promises';
import { init } from '../../device/device.js';
import { decodeImageFile } from '../../data/decode-image-file.js';
import { RESIZE_MODES, resizeRgb, type ResizeMode } from '../../data/resize.js';
import { UsageError } from '../../data/usage-error.js';
import { predictProbabilities } from '../../train/evaluate.js';
import { loadModel } from '../../train/model-files.js';
import { helpText, parseArgs, requireFlag, type FlagSpec } from '../args.js';

const PREDICT_FLAGS: FlagSpec = {
  model: { type: 'string', help: 'model folder written by train (required)' },
  top: { type: 'number', help: 'classes to show per image (5)' },
  json: { type: 'boolean', help: 'print JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function cmdPredict(argv: string[]): Promise<void> {
  const { flags, positional } = parseArgs(argv, PREDICT_FLAGS, 'predict');
  if (flags.help) return void process.stdout.write(helpText('predict', '--model DIR IMAGE...', PREDICT_FLAGS));
  const dir = requireFlag(flags, 'model', 'predict');
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
      img = await decodeImageFile(bytes, p);
    } catch (e) {
      throw new UsageError(`cannot decode ${p}: ${(e as Error).message}`);
    }
    images.push(img as unknown as Uint8Array);
  }
  await init();
  const { model, config } = await loadModel(dir);
  const size = config.imageSize;
  const trainedResize = config.training?.resize as ResizeMode | undefined;
  const resize = trainedResize && RESIZE_MODES.includes(trainedResize) ? trainedResize : 'crop';
  const per = size * size * 3;
  const all = new Uint8Array(images.length * per);
  images.forEach((img, i) => {
    const d = img as unknown as { width: number; height: number; rgb: Uint8Array };
    all.set(resizeRgb(d.rgb, d.width, d.height, size, undefined, resize), i * per);
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
    // The path as given: images in different folders often share a file name.
    process.stdout.write(`${r.image}\n`);
    for (const t of r.top) process.stdout.write(`  ${(100 * t.probability).toFixed(1).padStart(5)}%  ${t.class}\n`);
  }
}
