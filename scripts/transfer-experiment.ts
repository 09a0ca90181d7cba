/**
 * The transfer experiment of docs/trainer.md ("Fine-tuning: does it transfer?"). No ImageNet weights
 * can be fetched here, so the "pretrained" network is trained on five Fashion-MNIST classes (tops:
 * T-shirt, trouser, pullover, dress, coat) and fine-tuned on the other five (sandal, shirt, sneaker,
 * bag, ankle boot) from 200 images, against training from scratch on the same 200 images.
 *
 *   npm run build
 *   npx esbuild scripts/transfer-experiment.ts --bundle --platform=node --format=esm \
 *     --packages=external --loader:.wgsl=text --outfile=dist/transfer-experiment.mjs
 *   node dist/transfer-experiment.mjs [--work runs/transfer] [--epochs 30] [--pretrain-epochs 10]
 *     [--pretrain-per-class 500] [--cli dist/node/cli.js]
 *
 * Data (from Debian's dataset-fashion-mnist, deterministic seeded picks, 28x28 grayscale PNG):
 *   A-train 500 per class of classes 0-4 (train split; --pretrain-per-class), A-val 100 per class (t10k split);
 *   B-train 40 per class of classes 5-9 (train split: 200 images), B-val 100 per class and
 *   B-test 200 per class (t10k split, disjoint). B-val picks the saved epoch; B-test reports.
 * Every run trains at 32 px; the commands are printed as they run. Results: <work>/results.json
 * and a Markdown table on stdout. Long (about half an hour on 2 CPU cores): not part of the tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { init } from '../src/device/device.js';
import { parseSafetensors, asFloat32 } from '../src/io/safetensors.js';
import { mobilenetV3Small } from '../src/models/mobilenet-v3.js';
import { parseModelConfig } from '../src/train/model-format.js';
import { saveModel } from '../src/train/model-files.js';

const CLASSES = ['0-tshirt-top', '1-trouser', '2-pullover', '3-dress', '4-coat', '5-sandal', '6-shirt', '7-sneaker', '8-bag', '9-ankle-boot'];
const SRC = '/usr/share/datasets/fashion-mnist';
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
};
const WORK = resolve(arg('--work', 'runs/transfer'));
const EPOCHS = arg('--epochs', '30');
const PRETRAIN_EPOCHS = arg('--pretrain-epochs', '10');
const PRETRAIN_PER_CLASS = Number(arg('--pretrain-per-class', '500'));
const CLI = resolve(arg('--cli', 'dist/node/cli.js'));

function readIdx(path: string): { dims: number[]; data: Uint8Array } {
  const buf = gunzipSync(readFileSync(path));
  const ndims = buf[3]!;
  const dims = Array.from({ length: ndims }, (_, d) => buf.readUInt32BE(4 + 4 * d));
  return { dims, data: buf.subarray(4 + 4 * ndims) };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes `perClass` images of each class in `classes` (skipping the first `skip` per class) from a split. */
function writeSet(dir: string, prefix: string, classes: number[], perClass: number, skip: number, seed: number): void {
  if (existsSync(dir)) return;
  const images = readIdx(join(SRC, `${prefix}-images-idx3-ubyte.gz`));
  const labels = readIdx(join(SRC, `${prefix}-labels-idx1-ubyte.gz`));
  const [n, h, w] = images.dims as [number, number, number];
  const rand = mulberry32(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const seen = new Map<number, number>();
  for (const c of classes) mkdirSync(join(dir, CLASSES[c]!), { recursive: true });
  for (const i of order) {
    const label = labels.data[i]!;
    if (!classes.includes(label)) continue;
    const k = seen.get(label) ?? 0;
    seen.set(label, k + 1);
    if (k < skip || k >= skip + perClass) continue;
    const png = new PNG({ width: w, height: h, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
    png.data = Buffer.from(images.data.subarray(i * h * w, (i + 1) * h * w));
    writeFileSync(join(dir, CLASSES[label]!, `${String(k - skip).padStart(3, '0')}.png`), PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
  }
}

function cli(args: string[]): string {
  process.stdout.write(`$ mobilegrad ${args.join(' ')}\n`);
  return execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
}

const lastJson = (out: string) => JSON.parse(out.trim().split('\n').pop()!);

/** The last epoch's weights (from checkpoint.safetensors) as a model folder, to test them too. */
async function lastEpochModel(run: string): Promise<string> {
  const dir = join(run, 'last-epoch');
  mkdirSync(dir, { recursive: true });
  const config = parseModelConfig(readFileSync(join(run, 'config.json'), 'utf8'));
  const model = mobilenetV3Small({ numClasses: config.numClasses, widthMultiplier: config.widthMultiplier, dropout: config.dropout });
  const { tensors } = parseSafetensors(new Uint8Array(readFileSync(join(run, 'checkpoint.safetensors'))));
  for (const [name] of model.stateTensors()) model.loadTensor(name, asFloat32(tensors.get(`model.${name}`)!, name));
  await saveModel(dir, model, config);
  model.release();
  return dir;
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: run npm run build first`);
  const d = (name: string) => join(WORK, 'data', name);
  writeSet(d('A-train'), 'train', [0, 1, 2, 3, 4], PRETRAIN_PER_CLASS, 0, 11);
  writeSet(d('A-val'), 't10k', [0, 1, 2, 3, 4], 100, 0, 12);
  writeSet(d('B-train'), 'train', [5, 6, 7, 8, 9], 40, 0, 13);
  writeSet(d('B-val'), 't10k', [5, 6, 7, 8, 9], 100, 0, 14);
  writeSet(d('B-test'), 't10k', [5, 6, 7, 8, 9], 200, 100, 14);
  await init();

  const common = ['--image-size', '32', '--seed', '1', '--json', '--force'];
  const pre = join(WORK, 'pretrain');
  if (!existsSync(join(pre, 'model.safetensors'))) {
    cli(['train', '--data', d('A-train'), '--val', d('A-val'), '--epochs', PRETRAIN_EPOCHS, '--out', pre, ...common]);
  }
  const preSummary = JSON.parse(readFileSync(join(pre, 'summary.json'), 'utf8'));
  const weights = join(pre, 'model.safetensors');
  const fine = ['--data', d('B-train'), '--val', d('B-val'), '--epochs', EPOCHS, '--batch-size', '16', '--allow-small', ...common];
  const recipes: [string, string[]][] = [
    ['from scratch', []],
    ['head only (--freeze-backbone)', ['--pretrained', weights, '--freeze-backbone']],
    ['two-stage (default with --pretrained)', ['--pretrained', weights]],
    ['two-stage, backbone at the full lr (--backbone-lr-scale 1)', ['--pretrained', weights, '--backbone-lr-scale', '1']],
  ];
  const rows = [];
  for (const [name, extra] of recipes) {
    const out = join(WORK, name.replace(/ \(.*$/, '').replace(/[^a-z0-9]+/gi, '-').toLowerCase());
    const s = lastJson(cli(['train', ...fine, ...extra, '--out', out]));
    const best = lastJson(cli(['eval', '--model', out, '--data', d('B-test'), '--json']));
    const last = lastJson(cli(['eval', '--model', await lastEpochModel(out), '--data', d('B-test'), '--json']));
    rows.push({ recipe: name, savedEpoch: s.bestEpoch, epochs: s.epochsRun, valAccBest: s.bestValAcc, valAccLast: s.finalValAcc, testAccBest: best.accuracy, testAccLast: last.accuracy, testMacroF1Best: best.metrics.macro.f1, seconds: s.seconds });
  }
  const result = { pretrain: { valAcc: preSummary.metrics?.accuracy, epochs: preSummary.epochsRun, seconds: preSummary.seconds }, runs: rows };
  writeFileSync(join(WORK, 'results.json'), JSON.stringify(result, null, 2) + '\n');
  const p = (v: number) => `${(100 * v).toFixed(1)}%`;
  process.stdout.write(`\npretrained on A (5 classes, ${5 * PRETRAIN_PER_CLASS} images): validation accuracy ${p(result.pretrain.valAcc)} after ${result.pretrain.epochs} epochs\n\n`);
  process.stdout.write('| recipe | B-test accuracy, saved (best-val) epoch | B-test accuracy, last epoch | saved epoch | B-val accuracy best / last | B-test macro F1 | time |\n|---|---|---|---|---|---|---|\n');
  for (const r of rows) {
    process.stdout.write(`| ${r.recipe} | ${p(r.testAccBest)} | ${p(r.testAccLast)} | ${r.savedEpoch} of ${r.epochs} | ${p(r.valAccBest)} / ${p(r.valAccLast)} | ${p(r.testMacroF1Best)} | ${r.seconds.toFixed(0)} s |\n`);
  }
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
