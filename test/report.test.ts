import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { Canvas, textWidth, truncateText } from '../src/report/canvas.js';
import { glyphPixels, hasGlyph } from '../src/report/font5x7.js';
import { niceTicks, formatTick } from '../src/report/axes.js';
import { drawTrainingCurves, type EpochMetrics } from '../src/report/training-curves.js';
import { drawConfusionMatrix, heatColor } from '../src/report/confusion-matrix.js';
import { writeFileAtomic, writeFileAtomicSync } from '../src/report/write-file-atomic.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function history(n: number, withVal = true): EpochMetrics[] {
  return Array.from({ length: n }, (_, i) => {
    const e = i + 1, tl = 2.3 * Math.exp(-e / 8) + 0.15, vl = 2.3 * Math.exp(-e / 10) + 0.35;
    return { epoch: e, trainLoss: tl, trainAcc: 1 - tl / 2.6, ...(withVal ? { valLoss: vl, valAcc: 1 - vl / 2.7 } : {}) };
  });
}

/** Counts pixels close to `rgb`. */
function countColour(png: PNG, rgb: [number, number, number], tol = 30): number {
  let n = 0;
  for (let i = 0; i < png.width * png.height; i++) {
    if (Math.abs(png.data[i * 4] - rgb[0]) + Math.abs(png.data[i * 4 + 1] - rgb[1]) + Math.abs(png.data[i * 4 + 2] - rgb[2]) < tol) n++;
  }
  return n;
}

describe('Canvas', () => {
  it('fills, draws lines and text, and encodes a decodable PNG', () => {
    const c = new Canvas(40, 20);
    c.fillRect(0, 0, 10, 10, [255, 0, 0]);
    c.line(0, 15, 39, 15, [0, 0, 255], 1);
    c.text(12, 2, 'Hi', [0, 0, 0]);
    expect(c.pixel(5, 5)).toEqual([255, 0, 0]);
    expect(c.pixel(20, 15)).toEqual([0, 0, 255]);
    expect(c.pixel(39, 0)).toEqual([255, 255, 255]);
    expect(c.pixel(12, 2)).toEqual([0, 0, 0]); // top-left of 'H'
    const png = PNG.sync.read(c.toPNG());
    expect([png.width, png.height]).toEqual([40, 20]);
    expect(Array.from(png.data.subarray(0, 4))).toEqual([255, 0, 0, 255]);
  });
  it('blends translucent colours and clips outside the canvas', () => {
    const c = new Canvas(4, 4, [0, 0, 0]);
    c.fillRect(-5, -5, 100, 100, [255, 255, 255, 0.5]);
    expect(c.pixel(3, 3)).toEqual([128, 128, 128]);
    c.line(-10, -10, 20, 20, [255, 0, 0], 3);
    c.text(-3, -3, 'WWW', [0, 255, 0], { vertical: true });
  });
  it('has a glyph for digits, letters and common punctuation', () => {
    for (const ch of '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .,:;-_+=()[]/%\'"!?<>#*&@') {
      expect(hasGlyph(ch), ch).toBe(true);
      expect(glyphPixels(ch).every(([x, y]) => x >= 0 && x < 5 && y >= 0 && y < 9)).toBe(true);
      if (ch !== ' ') expect(glyphPixels(ch).length, ch).toBeGreaterThan(0);
    }
    expect(glyphPixels('\u4e2d').length).toBeGreaterThan(0); // missing glyphs draw a box
    expect(textWidth('abc')).toBe(17);
    expect(textWidth('abc', 2)).toBe(34);
    expect(truncateText('a_very_long_class_name', 8)).toBe('a_very_\u2026');
    expect(truncateText('short', 8)).toBe('short');
  });
});

describe('axes', () => {
  it('picks nice ticks', () => {
    expect(niceTicks(0, 2.43, 6).values).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
    expect(niceTicks(1, 30, 8, true).values).toEqual([0, 5, 10, 15, 20, 25, 30]);
    expect(niceTicks(0, 100, 5).values).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(3, 3, 5, true).values).toEqual([3, 4]);
    expect(formatTick(0.5, 0.5)).toBe('0.5');
    expect(formatTick(0.25, 0.05)).toBe('0.25');
    expect(formatTick(20, 20)).toBe('20');
  });
});

describe('drawTrainingCurves', () => {
  it('draws a 1000x470 PNG with train and validation lines', () => {
    const png = PNG.sync.read(drawTrainingCurves(history(30)));
    expect([png.width, png.height]).toEqual([1000, 470]);
    expect(countColour(png, [31, 100, 180])).toBeGreaterThan(500);  // train (blue)
    expect(countColour(png, [230, 110, 20])).toBeGreaterThan(500);  // validation (orange)
  });
  it('handles no validation, one epoch, gaps and an empty history', () => {
    const noVal = PNG.sync.read(drawTrainingCurves(history(5, false)));
    expect(countColour(noVal, [230, 110, 20])).toBe(0);
    expect(PNG.sync.read(drawTrainingCurves(history(1))).width).toBe(1000);
    const gappy = history(10);
    gappy[4].trainLoss = Number.NaN;
    gappy[6].valAcc = undefined;
    expect(PNG.sync.read(drawTrainingCurves(gappy)).height).toBe(470);
    expect(PNG.sync.read(drawTrainingCurves([])).height).toBe(470);
  });
});

describe('drawConfusionMatrix', () => {
  const names = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'a_very_long_class_name_truck'];
  const m = names.map((_, t) => names.map((_, p) => (t === p ? 40 + t : (t + p) % 7 === 0 ? 3 : 0)));
  it('draws a decodable PNG whose size follows the class count, diagonal cells dark', () => {
    const buf = drawConfusionMatrix(m, names);
    const png = PNG.sync.read(buf);
    expect(png.width).toBeGreaterThan(600);
    expect(png.height).toBeGreaterThan(600);
    const share = m[0][0] / m[0].reduce((a, b) => a + b, 0);
    expect(countColour(png, heatColor(share), 4)).toBeGreaterThan(1000); // the 56x56 cell of class 0
    const two = PNG.sync.read(drawConfusionMatrix([[5, 1], [0, 0]], ['a', 'b']));
    expect(two.height).toBeLessThan(png.height);
  });
  it('colours from white to deep blue and rejects mismatched shapes', () => {
    expect(heatColor(0)).toEqual([255, 255, 255]);
    expect(heatColor(1)[2]).toBeGreaterThan(heatColor(1)[0]);
    expect(heatColor(0.5)[0]).toBeLessThan(heatColor(0.2)[0]);
    expect(() => drawConfusionMatrix([[1, 2]], ['a', 'b'])).toThrow(RangeError);
  });
  it('copes with many classes', () => {
    const n = 60;
    const big = Array.from({ length: n }, (_, t) => Array.from({ length: n }, (_, p) => (t === p ? 1000 : 1)));
    const png = PNG.sync.read(drawConfusionMatrix(big, big.map((_, i) => `class_${i}`)));
    expect(png.width).toBeLessThan(1200);
    if (process.env.MOBILEGRAD_KEEP_PNG) writeFileSync(join(process.env.MOBILEGRAD_KEEP_PNG, 'cm60.png'), PNG.sync.write(png));
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temporary files', async () => {
    const d = mkdtempSync(join(tmpdir(), 'mobilegrad-report-'));
    dirs.push(d);
    const f = join(d, 'out.png');
    writeFileSync(f, 'old');
    await writeFileAtomic(f, new Uint8Array([1, 2, 3]));
    expect(Array.from(readFileSync(f))).toEqual([1, 2, 3]);
    writeFileAtomicSync(f, 'text');
    expect(readFileSync(f, 'utf8')).toBe('text');
    expect(readdirSync(d)).toEqual(['out.png']);
    await expect(writeFileAtomic(join(d, 'missing', 'x'), 'y')).rejects.toThrow();
    expect(readdirSync(d)).toEqual(['out.png']);
  });
});
