/**
 * int8 and ONNX as a user meets them, on the demo data (data/fashion-mnist, 32 px): `train
 * --quantize` (int8 within a point of float32 on the 1,000 test images), `quantize` (per-layer
 * SQNR, agreement, refusals), `eval` / `predict` on the int8 model, and `export --format onnx`
 * run by onnxruntime-node: float32 logits within 1e-4 (relative) of mobilegrad's, the int8 QDQ
 * model's top-1 equal to mobilegrad's int8 on at least 99 % of the test images.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { loadImageFolder } from '../src/data/dataset.js';
import { relativeLogitDiff } from '../src/export/export-onnx.js';
import { modelLogits } from '../src/export/model-logits.js';
import { loadOrt, onnxLogits } from '../src/export/onnx-run.js';
import { argmaxRows } from '../src/quant/compare.js';
import { Int8Model } from '../src/quant/int8-model.js';
import { activationParams, observeActivations } from '../src/quant/calibrate.js';
import { foldModel } from '../src/quant/fold.js';
import { pickCalibration } from '../src/quant/ptq.js';
import { quantizationAwareTraining } from '../src/quant/qat.js';
import { quantizeNet } from '../src/quant/quantize.js';
import { evaluate, type ImageSet } from '../src/train/evaluate.js';
import { loadModel } from '../src/train/model-files.js';
import { buildCli, runCli, type RunResult } from './support/cli.js';

const TRAIN_DIR = 'data/fashion-mnist/train';
const TEST_DIR = 'data/fashion-mnist/test';

let cli: string;
let run: string;
let trainSummary: { int8: { outDir: string; bytes: number; floatAccuracy: number; int8Accuracy: number; agreement: number; images: number } };
let test: ImageSet;
let testIdx: number[];

function expectRefusal(r: RunResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning: maxDynamic'));
  expect(lines.length, r.stderr).toBe(1);
  expect(lines[0]).toMatch(pattern);
}

const lastJson = (r: RunResult) => JSON.parse(r.stdout.trim().split('\n').pop()!);

beforeAll(async () => {
  cli = await buildCli();
  run = mkdtempSync(join(tmpdir(), 'mg-int8-'));
  // Two epochs at 32 px: a real (if young) model in about a minute.
  const r = await runCli(cli, ['train', '--data', TRAIN_DIR, '--val', TEST_DIR, '--image-size', '32', '--epochs', '2', '--seed', '1', '--out', run, '--force', '--quantize', '--json']);
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  trainSummary = lastJson(r);
  await mg.init();
  const d = await loadImageFolder(TEST_DIR, { imageSize: 32, allowSmall: true, minImages: 1 });
  test = { images: d.images, labels: d.labels, imageSize: 32 };
  testIdx = [...Array(d.count).keys()];
}, 600_000);

describe('int8 from the command line', () => {
  it('train --quantize writes an int8 model within a point of float32 on the test images, under 1.7 MB', () => {
    const q = trainSummary.int8;
    expect(q.outDir).toBe(join(run, 'int8'));
    expect(q.images).toBe(1000);
    expect(q.floatAccuracy).toBeGreaterThan(0.3); // a model that learned something
    // At most one point lost (a gain is no loss: on a young model the two differ both ways).
    expect(q.floatAccuracy - q.int8Accuracy, JSON.stringify(q)).toBeLessThanOrEqual(0.01);
    expect(q.agreement).toBeGreaterThan(0.9);
    expect(statSync(join(run, 'int8', 'model.safetensors')).size).toBe(q.bytes);
    expect(q.bytes).toBeLessThanOrEqual(1.7e6);
    const cfg = JSON.parse(readFileSync(join(run, 'int8', 'config.json'), 'utf8'));
    expect(cfg.precision).toBe('int8');
    expect(cfg.quantization.scheme).toBe('mobilegrad-int8-v1');
    expect(Object.keys(cfg.quantization.activations)).toContain('input');
  });

  it('quantize prints the SQNR table and the agreement, and writes a model that eval and predict read', async () => {
    const out = join(run, 'q');
    const r = await runCli(cli, ['quantize', '--model', run, '--calib', TRAIN_DIR, '--val', TEST_DIR, '--out', out, '--calib-images', '200', '--json']);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toMatch(/signal-to-quantization-noise/);
    expect(r.stderr).toMatch(/features\.12\.0\s+\d+\.\d/);
    expect(r.stderr).toMatch(/top-1 agreement \d+\.\d% on 1000 images/);
    expect(r.stderr).toMatch(/read back and checked: identical answers on 1000 images/);
    const s = lastJson(r);
    expect(s.calibrationImages).toBe(200);
    expect(s.reloadAgreement).toBe(1);
    expect(s.sqnr.length).toBeGreaterThan(50);
    // Quantization noise well below the signal everywhere (a broken scale or zero point gives about 0 dB or less).
    for (const row of s.sqnr) expect(row.sqnrDb, row.name).toBeGreaterThan(2);
    const sorted = s.sqnr.map((row: { sqnrDb: number }) => row.sqnrDb).sort((a: number, b: number) => a - b);
    expect(sorted[sorted.length >> 1]).toBeGreaterThan(10);

    const e = await runCli(cli, ['eval', '--model', out, '--data', TEST_DIR, '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).accuracy).toBeCloseTo(s.compare.accuracyB, 6);
    const p = await runCli(cli, ['predict', '--model', out, join(TEST_DIR, '8-bag', readFirst(join(TEST_DIR, '8-bag'))), '--top', '10', '--json']);
    expect(p.code, p.stderr).toBe(0);
    const top = JSON.parse(p.stdout)[0].top;
    expect(top.reduce((a: number, t: { probability: number }) => a + t.probability, 0)).toBeCloseTo(1, 3);
  });

  it('quantize refuses bad input with one line and exit code 2', async () => {
    expectRefusal(await runCli(cli, ['quantize', '--model', run]), /--calib/);
    expectRefusal(await runCli(cli, ['quantize', '--model', run, '--calib', TRAIN_DIR, '--method', 'best']), /--method/);
    expectRefusal(await runCli(cli, ['quantize', '--model', join(run, 'int8'), '--calib', TRAIN_DIR, '--out', join(run, 'again')]), /already an int8 model/);
    expectRefusal(await runCli(cli, ['quantize', '--model', run, '--calib', TRAIN_DIR, '--out', join(run, 'int8')]), /--force/);
    expectRefusal(await runCli(cli, ['quantize', '--model', '/nonexistent/model', '--calib', TRAIN_DIR]), /nonexistent/);
  });
});

function readFirst(dir: string): string {
  return readdirSync(dir).sort()[0]!;
}

describe('ONNX export checked by onnxruntime-node', () => {
  it('float32: the export checks itself, and its logits are within 1e-4 (relative) of mobilegrad\'s', async () => {
    const r = await runCli(cli, ['export', '--model', run, '--format', 'onnx', '--data', TEST_DIR, '--json']);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toMatch(/checked with onnxruntime-node on 1000 images/);
    const cfg = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8'));
    expect(cfg.onnx.input.name).toBe('pixels');
    expect(cfg.onnx.output.name).toBe('logits');
    const ort = (await loadOrt())!;
    expect(ort).not.toBeNull();
    const { model } = await loadModel(run);
    const want = await modelLogits(model, test, testIdx);
    const got = await onnxLogits(ort, new Uint8Array(readFileSync(join(run, 'model.onnx'))), test, testIdx);
    model.release();
    expect(relativeLogitDiff(got, want, 10)).toBeLessThanOrEqual(1e-4);
  });

  it('int8 QDQ: top-1 equal to mobilegrad\'s int8 on at least 99 % of the test images', async () => {
    const dir = join(run, 'int8');
    const out = join(dir, 'qdq.onnx');
    const r = await runCli(cli, ['export', '--model', dir, '--format', 'onnx', '--out', out, '--data', TEST_DIR]);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(existsSync(out)).toBe(true);
    const ort = (await loadOrt())!;
    const { model } = await loadModel(dir);
    expect(model).toBeInstanceOf(Int8Model);
    const want = argmaxRows(await modelLogits(model, test, testIdx), 10);
    const got = argmaxRows(await onnxLogits(ort, new Uint8Array(readFileSync(out)), test, testIdx), 10);
    model.release();
    const agree = want.filter((c, i) => c === got[i]).length / want.length;
    expect(agree).toBeGreaterThanOrEqual(0.99);
    // The QDQ graph holds int8 weights: far smaller than the float32 graph.
    expect(statSync(out).size).toBeLessThan(statSync(join(run, 'model.onnx')).size / 3);
  });

  it('export refuses bad input with one line and exit code 2', async () => {
    expectRefusal(await runCli(cli, ['export', '--model', run, '--format', 'tflite', '--data', TEST_DIR]), /--format/);
    expectRefusal(await runCli(cli, ['export', '--model', run, '--format', 'onnx']), /--data/);
    expectRefusal(await runCli(cli, ['export', '--model', run, '--format', 'onnx', '--data', TEST_DIR, '--out', run]), /folder/);
  });
});

describe('quantization-aware training', () => {
  it('ends closer to float32 than post-training quantization where that loses', async () => {
    const { model } = await loadModel(run);
    const train = await loadImageFolder(TRAIN_DIR, { imageSize: 32, allowSmall: true, minImages: 1 });
    const set: ImageSet = { images: train.images, labels: train.labels, imageSize: 32 };
    const all = [...Array(train.count).keys()];
    const folded = await foldModel(model as mg.models.MobileNetV3Small);
    const floatAcc = (await evaluate(model, test, testIdx, 100)).accuracy;
    model.release();
    // A case where post-training quantization loses: every activation range calibrated too
    // narrow (half its width; input and SE gates kept), so large values clip.
    const cal = await observeActivations(folded, set, pickCalibration(set.labels, all, 128, 1), 32);
    const acts = new Map([...activationParams(cal, 'percentile')].map(([k, v]) => [k, k === 'input' || /fc2$/.test(k) ? v : { scale: v.scale * 0.5, zeroPoint: v.zeroPoint }]));
    const ptq = new Int8Model(quantizeNet(folded, acts));
    const ptqAcc = (await evaluate(ptq, test, testIdx, 100)).accuracy;
    ptq.release();
    expect(floatAcc - ptqAcc).toBeGreaterThan(0.01);
    // One epoch over 640 training images, the same activation parameters.
    const tuned = await quantizationAwareTraining(folded, acts, set, pickCalibration(set.labels, all, 640, 3), { epochs: 1, batchSize: 32, seed: 1 });
    const qat = new Int8Model(quantizeNet(tuned, acts));
    const qatAcc = (await evaluate(qat, test, testIdx, 100)).accuracy;
    qat.release();
    expect(Math.abs(floatAcc - qatAcc), `float ${floatAcc}, PTQ ${ptqAcc}, QAT ${qatAcc}`).toBeLessThan(Math.abs(floatAcc - ptqAcc));
  });

  it('refuses impossible --qat-epochs', async () => {
    expectRefusal(await runCli(cli, ['quantize', '--model', run, '--calib', TRAIN_DIR, '--qat-epochs', '-1']), /--qat-epochs/);
    expectRefusal(await runCli(cli, ['train', '--data', TRAIN_DIR, '--qat-epochs', '2']), /--quantize/);
  });
});
