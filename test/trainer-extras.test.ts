/**
 * The grown-up trainer: metrics math against hand-computed confusion matrices, best-epoch and
 * patience rules, class weights, mistakes selection, lr-find's suggestion, the report's HTML; and
 * through the CLI: early stopping with the best epoch's weights saved, lr-find's output, --lr auto
 * with --class-weights auto, and fine-tuning (frozen backbone, two-stage).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import * as mg from '../src/index.js';
import { bestEpoch, epochsSinceAccuracyImproved, isImprovement, shouldStopEarly } from '../src/train/best-epoch.js';
import { balancedClassWeights } from '../src/train/class-weights.js';
import { backboneFrozen, defaultHeadEpochs, trainerParamGroups } from '../src/train/fine-tune.js';
import { suggest } from '../src/train/lr-find.js';
import { classificationMetrics, topKAccuracy } from '../src/train/metrics.js';
import { confidentMistakes } from '../src/report/mistakes.js';
import { buildReportHtml } from '../src/report/report-html.js';
import { parseSafetensors } from '../src/io/safetensors.js';
import { buildCli, runCli, type RunResult } from './support/cli.js';

describe('classification metrics', () => {
  it('match a hand-computed confusion matrix', () => {
    // rows: true class, columns: predicted
    //          a  b  c     support  predicted  tp
    //   a   [  5, 2, 1 ]      8         8       5
    //   b   [  0, 6, 0 ]      6         9       6
    //   c   [  3, 1, 2 ]      6         3       2
    const m = classificationMetrics([[5, 2, 1], [0, 6, 0], [3, 1, 2]], ['a', 'b', 'c'], { loss: 0.7 });
    expect(m.count).toBe(20);
    expect(m.accuracy).toBeCloseTo(13 / 20, 12);
    expect(m.loss).toBe(0.7);
    const want = [
      { class: 'a', precision: 5 / 8, recall: 5 / 8, f1: 5 / 8, support: 8 },
      { class: 'b', precision: 6 / 9, recall: 1, f1: 0.8, support: 6 },
      { class: 'c', precision: 2 / 3, recall: 2 / 6, f1: 4 / 9, support: 6 },
    ];
    m.perClass.forEach((c, i) => {
      expect(c.class).toBe(want[i]!.class);
      expect(c.support).toBe(want[i]!.support);
      for (const k of ['precision', 'recall', 'f1'] as const) expect(c[k]).toBeCloseTo(want[i]![k], 12);
    });
    expect(m.macro.precision).toBeCloseTo((5 / 8 + 6 / 9 + 2 / 3) / 3, 12);
    expect(m.macro.recall).toBeCloseTo((5 / 8 + 1 + 1 / 3) / 3, 12);
    expect(m.macro.f1).toBeCloseTo((5 / 8 + 0.8 + 4 / 9) / 3, 12);
    expect(m.weighted.precision).toBeCloseTo((5 + 4 + 4) / 20, 12);
    expect(m.weighted.recall).toBeCloseTo(13 / 20, 12);
    expect(m.weighted.f1).toBeCloseTo((5 + 4.8 + (4 / 9) * 6) / 20, 12);
    expect(m.confusionNormalized[2]).toEqual([0.5, 1 / 6, 1 / 3]);
    expect(m.confusion).toEqual([[5, 2, 1], [0, 6, 0], [3, 1, 2]]);
    expect(m.top5Accuracy).toBeUndefined();
  });

  it('a class never predicted has precision 0; a class without images is left out of the macro average', () => {
    // a: 3 images, all predicted b; b: 2 images, both right; c: no images, never predicted.
    const m = classificationMetrics([[0, 3, 0], [0, 2, 0], [0, 0, 0]], ['a', 'b', 'c']);
    expect(m.perClass.map((c) => [c.precision, c.recall, c.f1, c.support])).toEqual([[0, 0, 0, 3], [0.4, 1, 2 * 0.4 / 1.4, 2], [0, 0, 0, 0]]);
    expect(m.macro.recall).toBeCloseTo(0.5, 12);
    expect(m.macro.f1).toBeCloseTo((0 + 0.8 / 1.4) / 2, 12);
    expect(m.confusionNormalized[2]).toEqual([0, 0, 0]);
  });

  it('top-5 accuracy only with more than 5 classes, computed from the probabilities', () => {
    const k = 7;
    // Row 0: label 6 ranks 6th (out); row 1: label 0 ranks 5th (in); row 2: label 3 ranks 1st.
    const probs = Float32Array.from([
      0.30, 0.20, 0.15, 0.12, 0.10, 0.05, 0.08,
      0.10, 0.30, 0.20, 0.15, 0.12, 0.05, 0.08,
      0.05, 0.05, 0.05, 0.60, 0.10, 0.10, 0.05,
    ]);
    const labels = [6, 0, 3];
    expect(topKAccuracy(probs, labels, k, 5)).toBeCloseTo(2 / 3, 12);
    expect(topKAccuracy(probs, labels, k, 1)).toBeCloseTo(1 / 3, 12);
    const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
    confusion[6]![0] = 1; confusion[0]![1] = 1; confusion[3]![3] = 1;
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    expect(classificationMetrics(confusion, names, { probabilities: probs, labels }).top5Accuracy).toBeCloseTo(2 / 3, 12);
    const five = classificationMetrics([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1]], names.slice(0, 5), { probabilities: new Float32Array(25).fill(0.2), labels: [0, 1, 2, 3, 4] });
    expect(five.top5Accuracy).toBeUndefined();
  });
});

describe('best epoch and patience', () => {
  const h = (epoch: number, valAcc: number, valLoss: number) => ({ epoch, valAcc, valLoss });
  it('the best epoch has the highest accuracy, ties go to the lower loss, then the earlier epoch', () => {
    expect(bestEpoch([h(1, 0.5, 1), h(2, 0.7, 0.9), h(3, 0.6, 0.5)])?.epoch).toBe(2);
    expect(bestEpoch([h(1, 0.7, 1), h(2, 0.7, 0.8), h(3, 0.7, 0.8)])?.epoch).toBe(2);
    expect(bestEpoch([h(1, NaN, NaN)])).toBeNull();
    expect(isImprovement(h(2, 0.1, 9), null)).toBe(true);
  });
  it('patience counts epochs since the best accuracy was first reached', () => {
    const hist = [h(1, 0.5, 1), h(2, 0.8, 0.9), h(3, 0.8, 0.7), h(4, 0.6, 0.6)];
    expect(epochsSinceAccuracyImproved(hist)).toBe(2);
    expect(shouldStopEarly(hist, 2)).toBe(true);
    expect(shouldStopEarly(hist, 3)).toBe(false);
    expect(shouldStopEarly(hist, 0)).toBe(false);
    expect(shouldStopEarly([h(1, NaN, NaN), h(2, NaN, NaN)], 1)).toBe(false);
  });
});

describe('class weights, mistakes, lr-find suggestion, fine-tuning groups, report', () => {
  it('balanced class weights are n / (K n_c) over the training images', () => {
    const labels = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 1];
    const train = [...Array(12).keys()]; // the last image (a 1) is validation
    // Training counts 6, 2, 4 and 0 of 12 images over K = 4 classes.
    expect(balancedClassWeights(labels, train, 4)).toEqual([12 / (4 * 6), 12 / (4 * 2), 12 / (4 * 4), 0]);
  });

  it('mistakes: the most confidently wrong first', () => {
    const probs = Float32Array.from([0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7, 0.05, 0.95]);
    expect(confidentMistakes(probs, [0, 0, 1, 1, 0], 2, 10)).toEqual([
      { index: 4, trueClass: 0, predictedClass: 1, confidence: Math.fround(0.95) },
      { index: 1, trueClass: 0, predictedClass: 1, confidence: Math.fround(0.8) },
      { index: 2, trueClass: 1, predictedClass: 0, confidence: Math.fround(0.6) },
    ]);
    expect(confidentMistakes(probs, [0, 0, 1, 1, 0], 2, 1)).toHaveLength(1);
  });

  it("lr-find suggests a tenth of the learning rate at the smoothed loss's minimum", () => {
    const lrs = Array.from({ length: 61 }, (_, i) => 1e-6 * 10 ** (i / 10)); // 1e-6 .. 1
    // Flat, then falling fastest around 1e-3, lowest at 1e-2, then rising.
    const loss = lrs.map((lr) => { const x = Math.log10(lr); return x < -2 ? 2 - 1.5 / (1 + Math.exp(-4 * (x + 3))) : 0.5 + 2 * (x + 2) ** 2; });
    const s = suggest(lrs, loss);
    expect(s.minLossLr).toBeCloseTo(1e-2, 8);
    expect(s.suggestion).toBeCloseTo(1e-3, 9);
    expect(Math.log10(s.steepestLr)).toBeGreaterThan(-3.6);
    expect(Math.log10(s.steepestLr)).toBeLessThan(-2.4);
  });

  it('fine-tuning: head first with the full lr, backbone at the scaled lr; frozen during the head epochs', async () => {
    await mg.init();
    const model = mg.models.mobilenetV3Small({ numClasses: 3 });
    const { groups, lrScales } = trainerParamGroups(model, 0.01, { headEpochs: 2, backboneLrScale: 0.1, freezeBackbone: false });
    expect(lrScales).toEqual([1, 1, 0.1, 0.1]);
    const names = new Map(model.namedParameters().map(([n, p]) => [p, n]));
    expect(groups[0]!.params.map((p) => names.get(p))).toEqual(['classifier.0.weight', 'classifier.3.weight']);
    expect(groups[1]!.params.every((p) => names.get(p)!.startsWith('classifier.'))).toBe(true);
    expect(groups[2]!.params.every((p) => names.get(p)!.startsWith('features.'))).toBe(true);
    expect(groups.map((g) => g.weightDecay)).toEqual([0.01, 0, 0.01, 0]);
    expect(groups.reduce((n, g) => n + g.params.length, 0)).toBe(model.parameters().length);
    expect([0, 1, 2].map((e) => backboneFrozen(e, { headEpochs: 2, backboneLrScale: 0.1, freezeBackbone: false }))).toEqual([true, true, false]);
    expect(backboneFrozen(5, { headEpochs: 0, backboneLrScale: 0.1, freezeBackbone: true })).toBe(true);
    expect([defaultHeadEpochs(1), defaultHeadEpochs(2), defaultHeadEpochs(10), defaultHeadEpochs(25)]).toEqual([1, 1, 1, 3]);
    model.release();
  });

  it('report.html is one self-contained file: images inline, nothing fetched, text escaped', () => {
    const png = new PNG({ width: 2, height: 2 });
    const bytes = PNG.sync.write(png);
    const html = buildReportHtml({
      title: 'run <1>', highlights: [['accuracy', '90%']], notes: ['a & b'], warnings: ['leak: x.png'],
      perClass: [{ class: '<cat>', precision: 0.5, recall: 1, f1: 2 / 3, support: 4 }],
      averages: [{ name: 'macro average', precision: 0.5, recall: 1, f1: 2 / 3, support: 4 }],
      images: { curves: bytes, confusion: bytes, confusionNormalized: bytes, mistakes: bytes },
      history: [{ epoch: 1, trainLoss: 1, trainAcc: 0.5, valLoss: 1, valAcc: 0.5, lr: 1e-3, seconds: 2 }], bestEpoch: 1,
      config: { lr: 0.001, data: '/photos' }, generatedAt: 'now',
    });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/src="data:image\/png;base64,/g)).toHaveLength(4);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<script/);
    expect(html).toContain('&lt;cat&gt;');
    expect(html).toContain('run &lt;1&gt;');
    expect(html).toContain('66.7%');
    expect(html).toContain('1 (best, saved)');
  });
});

// ---------- through the CLI ----------

/** A 2-class folder of noisy solid colours (red, blue); `invert` swaps the labels (a validation set the model must get wrong). */
function colours(perClass: Record<string, number>, seed: number, invert = false): string {
  const dir = mkdtempSync(join(tmpdir(), 'mg-colours-'));
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (const [cls, n] of Object.entries(perClass)) {
    mkdirSync(join(dir, cls));
    const red = (cls === 'red') !== invert;
    for (let i = 0; i < n; i++) {
      const png = new PNG({ width: 20, height: 20 });
      for (let p = 0; p < 400; p++) {
        const v = 40 * rnd();
        png.data.set([red ? 200 + v : 30 + v, 40 + v, red ? 30 + v : 200 + v, 255], p * 4);
      }
      writeFileSync(join(dir, cls, `${i}.png`), PNG.sync.write(png));
    }
  }
  return dir;
}

const SMALL = ['--image-size', '32', '--batch-size', '8', '--allow-small', '--seed', '3', '--no-check'];

function summaryOf(r: RunResult): Record<string, any> {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

function tensorsOf(file: string): Map<string, Float32Array> {
  const { tensors } = parseSafetensors(new Uint8Array(readFileSync(file)), file);
  return new Map([...tensors].map(([k, t]) => [k, new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength))]));
}

describe('mobilegrad train: early stop, best epoch, lr-find, class weights, fine-tuning', () => {
  let cli: string;
  beforeAll(async () => {
    cli = await buildCli();
  });

  it('--patience stops once the validation accuracy has not risen for N epochs, and the saved model is the best epoch', async () => {
    // Validation labels are swapped: the better the model learns, the worse it scores, so the best
    // epoch comes early and the run must stop patience epochs after it.
    const train = colours({ blue: 16, red: 16 }, 1);
    const val = colours({ blue: 4, red: 4 }, 2, true);
    const out = mkdtempSync(join(tmpdir(), 'mg-patience-'));
    const s = summaryOf(await runCli(cli, ['train', '--data', train, '--val', val, ...SMALL, '--epochs', '10', '--patience', '2', '--out', out, '--force', '--json']));
    const history = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).epochs as { epoch: number; valAcc: number; valLoss: number }[];
    const maxAcc = Math.max(...history.map((e) => e.valAcc));
    const firstMax = history.find((e) => e.valAcc === maxAcc)!.epoch;
    expect(s.stopped).toBe('early-stopped');
    expect(s.epochsRun).toBe(firstMax + 2);
    expect(history).toHaveLength(firstMax + 2);
    const best = bestEpoch(history)!;
    expect(s.bestEpoch).toBe(best.epoch);
    expect(s.bestEpoch).toBeLessThan(s.epochsRun);
    // The saved weights are the best epoch's: evaluating them gives that epoch's numbers, not the last's.
    const e = await runCli(cli, ['eval', '--model', out, '--data', val, '--json']);
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout);
    expect(ev.accuracy).toBe(best.valAcc);
    expect(ev.loss).toBeCloseTo(best.valLoss, 5);
    expect(s.metrics.accuracy).toBe(best.valAcc);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).training.bestEpoch).toBe(best.epoch);
    for (const f of ['report.html', 'mistakes.png', 'confusion-matrix.png', 'confusion-matrix-normalized.png', 'training-curves.png']) expect(existsSync(join(out, f)), f).toBe(true);
  });

  it('lr-find writes the curve, the chart and a suggestion inside the range tested', async () => {
    const data = colours({ blue: 12, red: 12 }, 5);
    const out = mkdtempSync(join(tmpdir(), 'mg-lrfind-'));
    const r = await runCli(cli, ['lr-find', '--data', data, '--image-size', '32', '--batch-size', '8', '--allow-small', '--steps', '30', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(res.lrs.length).toBeGreaterThan(10);
    expect(res.lrs.length).toBeLessThanOrEqual(30);
    expect(res.lrs[0]).toBeCloseTo(1e-7, 12);
    // Exponential steps: a constant ratio of 10^(8/29) from 1e-7 to 10 over 30 steps.
    for (let i = 1; i < res.lrs.length; i++) expect(res.lrs[i] / res.lrs[i - 1]).toBeCloseTo(10 ** (8 / 29), 6);
    expect(res.losses.every(Number.isFinite)).toBe(true);
    expect(res.suggestion).toBeCloseTo(res.minLossLr / 10, 12);
    expect(res.lrs).toContain(res.minLossLr);
    const png = PNG.sync.read(readFileSync(join(out, 'lr-find.png')));
    expect(png.width).toBeGreaterThan(400);
    const bad = await runCli(cli, ['lr-find', '--data', data, '--allow-small', '--steps', '3']);
    expect(bad.code).toBe(2);
  });

  it('--lr auto trains at the range test suggestion; --class-weights auto balances an imbalanced set', async () => {
    const data = colours({ blue: 30, red: 8 }, 7);
    const out = mkdtempSync(join(tmpdir(), 'mg-lrauto-'));
    const r = await runCli(cli, ['train', '--data', data, ...SMALL.filter((a) => a !== '--no-check'), '--epochs', '1', '--lr', 'auto', '--class-weights', 'auto', '--val-split', '0.25', '--out', out, '--force', '--json']);
    const s = summaryOf(r);
    const found = JSON.parse(readFileSync(join(out, 'lr-find.json'), 'utf8'));
    // 100 steps, or fewer when the loss blew up first.
    expect(found.lrs.length === 100 || (found.diverged && found.lrs.length < 100)).toBe(true);
    expect(s.lr).toBe(Number(found.suggestion.toPrecision(2)));
    expect(r.stderr).toMatch(/--lr auto: lr /);
    expect(existsSync(join(out, 'lr-find.png'))).toBe(true);
    // 30 blue and 8 red, a quarter of each held out: 22 and 6 train (round(30/4) = 8, round(8/4) = 2).
    expect(s.classWeights.blue).toBeCloseTo(28 / (2 * 22), 10);
    expect(s.classWeights.red).toBeCloseTo(28 / (2 * 6), 10);
    expect(r.stderr).toMatch(/classes are imbalanced .*--class-weights auto balances the loss/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/Learning-rate range test/);
  });

  it('--pretrained: --freeze-backbone trains the head only; the default two-stage recipe trains the backbone after the head epochs', async () => {
    const data = colours({ blue: 12, red: 12 }, 9);
    const base = mkdtempSync(join(tmpdir(), 'mg-base-'));
    summaryOf(await runCli(cli, ['train', '--data', data, ...SMALL, '--epochs', '1', '--out', base, '--force', '--json']));
    const start = tensorsOf(join(base, 'model.safetensors'));
    const isParam = (k: string) => k.startsWith('features.') && !k.includes('running_') && !k.includes('num_batches');

    const frozen = mkdtempSync(join(tmpdir(), 'mg-frozen-'));
    const r1 = await runCli(cli, ['train', '--data', data, ...SMALL, '--epochs', '2', '--pretrained', join(base, 'model.safetensors'), '--freeze-backbone', '--out', frozen, '--force', '--json']);
    summaryOf(r1);
    expect(r1.stderr).toMatch(/fine-tuning: the head only/);
    const f = tensorsOf(join(frozen, 'model.safetensors'));
    for (const [k, v] of start) {
      if (isParam(k)) expect(Array.from(f.get(k)!), k).toEqual(Array.from(v));
    }
    expect(Array.from(f.get('classifier.3.weight')!)).not.toEqual(Array.from(start.get('classifier.3.weight')!));

    const two = mkdtempSync(join(tmpdir(), 'mg-twostage-'));
    const r2 = await runCli(cli, ['train', '--data', data, ...SMALL, '--epochs', '2', '--head-epochs', '1', '--pretrained', join(base, 'model.safetensors'), '--out', two, '--force', '--json']);
    const s2 = summaryOf(r2);
    expect(r2.stderr).toMatch(/the head alone for 1 epoch\(s\), then the whole network with the backbone at 0\.1x/);
    // The saved epoch is epoch 2 when it beat epoch 1: then the backbone has moved. Epoch 1 alone (head only) leaves it as it was.
    const t = tensorsOf(join(two, 'model.safetensors'));
    const moved = [...start.keys()].filter(isParam).some((k) => Array.from(t.get(k)!).some((v, i) => v !== start.get(k)![i]));
    expect(moved).toBe(s2.bestEpoch === 2);
    expect((await runCli(cli, ['train', '--data', data, ...SMALL, '--freeze-backbone'])).code).toBe(2);
  });
});
