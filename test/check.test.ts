/**
 * The dataset check on folders built here: images per class, sizes, formats, colour modes,
 * undecodable files, imbalance advice, and duplicates planted within a class, across classes
 * (a mislabelled copy) and between the training and validation sets (leakage), each named.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { PNG } from 'pngjs';
import { checkDataset, checkWarnings, formatCheck, type CheckedImage, type DatasetCheck } from '../src/data/dataset-check.js';
import { findDuplicateGroups } from '../src/data/find-duplicates.js';
import { hashImage, hammingDistance, perceptualHash } from '../src/data/image-hash.js';
import { inspectImageFolder } from '../src/data/inspect-folder.js';
import { buildCli, runCli } from './support/cli.js';

/** A seeded "photo": a few smooth colour waves and blobs plus noise, different for every seed. */
function photo(w: number, h: number, seed: number): Uint8Array {
  let s = seed * 7919 + 17;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const waves = Array.from({ length: 4 }, () => ({ fx: (r() - 0.5) * 0.5, fy: (r() - 0.5) * 0.5, ph: r() * 6.28, c: [r(), r(), r()] }));
  const blobs = Array.from({ length: 3 }, () => ({ x: r() * w, y: r() * h, rad: 4 + r() * w / 4, c: [r() * 255, r() * 255, r() * 255] }));
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) {
    let v = 128;
    for (const wv of waves) v += 40 * wv.c[c]! * Math.sin(wv.fx * x + wv.fy * y + wv.ph);
    for (const b of blobs) if ((x - b.x) ** 2 + (y - b.y) ** 2 < b.rad ** 2) v = 0.3 * v + 0.7 * b.c[c]!;
    out[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v + (r() - 0.5) * 12)));
  }
  return out;
}

const png = (rgb: Uint8Array, w: number, h: number) => sharp(Buffer.from(rgb), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();

interface Planted {
  data: string;
  val: string;
}

/**
 * Classes cat (12), dog (12), fox (2: imbalanced), two validation images each (seeded apart). Planted: an exact copy within cat, a re-encoded
 * brighter copy of a dog photo filed under fox (mislabel), a WebP copy of a cat photo in the
 * validation folder (leakage), a corrupt PNG; one 16-bit and one non-square image.
 */
async function plant(): Promise<Planted> {
  const root = mkdtempSync(join(tmpdir(), 'mg-check-'));
  const data = join(root, 'data'), val = join(root, 'val');
  const counts: Record<string, number> = { cat: 12, dog: 12, fox: 2 };
  let seed = 1;
  for (const [cls, n] of Object.entries(counts)) {
    mkdirSync(join(data, cls), { recursive: true });
    mkdirSync(join(val, cls), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(data, cls, `${cls}${i}.png`), await png(photo(48, 48, seed++), 48, 48));
    for (let i = 0; i < 2; i++) writeFileSync(join(val, cls, `v${cls}${i}.png`), await png(photo(48, 48, 1000 + seed++), 48, 48));
  }
  const cat3 = photo(48, 48, 4); // the file cat3.png
  writeFileSync(join(data, 'cat', 'cat3-copy.png'), await png(cat3, 48, 48));
  const dog5 = photo(48, 48, 15 + 5); // dog5.png: cat's data and validation images take seeds 1..14
  writeFileSync(join(data, 'fox', 'looks-like-a-fox.jpg'),
    await sharp(Buffer.from(dog5), { raw: { width: 48, height: 48, channels: 3 } }).modulate({ brightness: 1.08 }).jpeg({ quality: 85 }).toBuffer());
  const cat7 = photo(48, 48, 8);
  writeFileSync(join(val, 'cat', 'leaked.webp'), await sharp(Buffer.from(cat7), { raw: { width: 48, height: 48, channels: 3 } }).webp({ quality: 80 }).toBuffer());
  writeFileSync(join(data, 'dog', 'broken.png'), (await png(photo(8, 8, 99), 8, 8)).subarray(0, 40));
  // A 16-bit PNG and a non-square JPEG.
  const deep = new PNG({ width: 20, height: 20, bitDepth: 16, colorType: 2, inputColorType: 6 });
  const d16 = new Uint16Array(20 * 20 * 4);
  const src = photo(20, 20, 555);
  for (let i = 0; i < 400; i++) { for (let c = 0; c < 3; c++) d16[i * 4 + c] = src[i * 3 + c]! * 257; d16[i * 4 + 3] = 65535; }
  (deep as unknown as { data: Buffer }).data = Buffer.from(d16.buffer);
  writeFileSync(join(data, 'dog', 'deep.png'), PNG.sync.write(deep, { bitDepth: 16, colorType: 2, inputColorType: 6 }));
  writeFileSync(join(data, 'dog', 'wide.jpg'), await sharp(Buffer.from(photo(64, 32, 777)), { raw: { width: 64, height: 32, channels: 3 } }).jpeg().toBuffer());
  return { data, val };
}

const base = (p: string) => p.split('/').slice(-2).join('/');

describe('perceptual hash', () => {
  it('is stable under re-encoding and brightness, far apart for different pictures', async () => {
    const a = photo(64, 64, 1), b = photo(64, 64, 2);
    const ha = perceptualHash(a, 64, 64);
    expect(ha).toMatch(/^[0-9a-f]{16}$/);
    const jpg = await sharp(Buffer.from(a), { raw: { width: 64, height: 64, channels: 3 } }).modulate({ brightness: 1.1 }).jpeg({ quality: 70 }).raw().toBuffer();
    expect(hammingDistance(ha, perceptualHash(new Uint8Array(jpg), 64, 64))).toBeLessThanOrEqual(6);
    expect(hammingDistance(ha, perceptualHash(b, 64, 64))).toBeGreaterThan(16);
    // A resized copy (area averaging to 32 px happens inside the hash) keeps the hash close.
    const small = await sharp(Buffer.from(a), { raw: { width: 64, height: 64, channels: 3 } }).resize(40, 40).raw().toBuffer();
    expect(hammingDistance(ha, perceptualHash(new Uint8Array(small), 40, 40))).toBeLessThanOrEqual(8);
  });

  it('groups exact and near copies, and keeps distinct pictures apart', () => {
    const imgs = [photo(40, 40, 1), photo(40, 40, 2), photo(40, 40, 1), photo(40, 40, 3)];
    const bright = Uint8Array.from(imgs[1]!, (v) => Math.min(255, Math.round(v * 1.05 + 3)));
    const hashes = [...imgs, bright].map((x) => hashImage(x, 40, 40));
    const groups = findDuplicateGroups(hashes);
    expect(groups).toEqual([{ members: [0, 2], identical: true }, { members: [1, 4], identical: false }]);
    // maxHamming 0: exact copies only.
    expect(findDuplicateGroups(hashes, { maxHamming: 0 })).toEqual([{ members: [0, 2], identical: true }]);
  });
});

describe('dataset check on a planted folder', () => {
  let planted: Planted;
  let report: DatasetCheck;
  beforeAll(async () => {
    planted = await plant();
    const data = await inspectImageFolder(planted.data, { cacheDir: null });
    const val = await inspectImageFolder(planted.val, { cacheDir: null });
    const images: CheckedImage[] = [...data.images.map((i) => ({ ...i, split: 'train' as const })), ...val.images.map((i) => ({ ...i, split: 'val' as const }))];
    report = checkDataset({ classes: data.classes, images, undecodable: [...data.undecodable, ...val.undecodable], imageSize: 32 });
  });

  it('counts images per class and split, sizes, formats and colour modes', () => {
    // cat: 12 + the copy, validation 2 + the leaked copy; dog: 12 + 16-bit + wide (broken.png is
    // skipped); fox: 2 + the mislabelled copy.
    expect(report.classes).toEqual([
      { name: 'cat', images: 16, train: 13, val: 3 },
      { name: 'dog', images: 16, train: 14, val: 2 },
      { name: 'fox', images: 5, train: 3, val: 2 },
    ]);
    expect(report.total).toBe(37);
    expect([report.train, report.val]).toEqual([30, 7]);
    expect(report.formats).toEqual({ png: 34, jpeg: 2, webp: 1 });
    expect(report.modes['rgb 16-bit']).toBe(1);
    expect(report.sizes.nonSquare).toBe(1);
    expect(report.sizes.smallerThanTraining).toBe(1); // the 20x20 image
    expect([report.sizes.minWidth, report.sizes.maxWidth, report.sizes.minHeight, report.sizes.maxHeight]).toEqual([20, 64, 20, 48]);
  });

  it('names the file that will not decode, with the reason', () => {
    expect(report.undecodable).toHaveLength(1);
    expect(base(report.undecodable[0]!.path)).toBe('dog/broken.png');
    expect(report.undecodable[0]!.reason).toMatch(/corrupt PNG/);
  });

  it('finds the imbalance and advises --class-weights auto', () => {
    expect(report.imbalance).toMatchObject({ largest: 'cat', largestCount: 16, smallest: 'fox', smallestCount: 5, warn: true });
    expect(report.imbalance.ratio).toBeCloseTo(16 / 5, 10);
    expect(formatCheck(report)).toMatch(/classes are imbalanced: "cat" has 16 images, "fox" 5 \(ratio 3\.2:1\).*--class-weights auto/);
  });

  it('finds the copy within a class, the mislabelled copy across classes and the leaked copy in validation, naming the files', () => {
    const groups = report.duplicates.map((d) => ({ kind: d.kind, scopes: d.scopes, files: d.files.map((f) => `${base(f.path)}:${f.split}`).sort() }));
    expect(groups).toContainEqual({ kind: 'exact', scopes: ['within-class'], files: ['cat/cat3-copy.png:train', 'cat/cat3.png:train'] });
    expect(groups).toContainEqual({ kind: 'near', scopes: ['across-classes'], files: ['dog/dog5.png:train', 'fox/looks-like-a-fox.jpg:train'] });
    expect(groups).toContainEqual({ kind: 'near', scopes: ['train-val'], files: ['cat/cat7.png:train', 'cat/leaked.webp:val'] });
    expect(groups).toHaveLength(3);
    const text = formatCheck(report);
    expect(text).toMatch(/likely mislabelled[^\n]*\n[^\n]*dog5\.png \(dog, train\)[^\n]*looks-like-a-fox\.jpg \(fox, train\)/);
    expect(text).toMatch(/leakage[^\n]*\n[^\n]*cat7\.png \(cat, train\)[^\n]*leaked\.webp \(cat, val\)/);
    const warnings = checkWarnings(report);
    expect(warnings.some((w) => /mislabelled.*looks-like-a-fox\.jpg/.test(w))).toBe(true);
    expect(warnings.some((w) => /leakage.*leaked\.webp/.test(w))).toBe(true);
  });
});

describe('imbalance advice', () => {
  it('fires at 3:1 and suggests --class-weights auto', () => {
    const info = (seed: number) => ({ format: 'png' as const, mode: 'rgb' as const, bitDepth: 8, width: 8, height: 8, fileBytes: 1, ...hashImage(photo(8, 8, seed), 8, 8) });
    const images: CheckedImage[] = [];
    for (let i = 0; i < 9; i++) images.push({ path: `/a/${i}.png`, label: 0, split: 'train', info: info(i) });
    for (let i = 0; i < 3; i++) images.push({ path: `/b/${i}.png`, label: 1, split: 'train', info: info(100 + i) });
    const c = checkDataset({ classes: ['a', 'b'], images, undecodable: [] });
    expect(c.imbalance).toMatchObject({ ratio: 3, warn: true, largest: 'a', smallest: 'b' });
    expect(checkWarnings(c)[0]).toMatch(/"a" has 9 images, "b" 3 \(ratio 3\.0:1\).*--class-weights auto/);
    images.pop();
    expect(checkDataset({ classes: ['a', 'b'], images, undecodable: [] }).imbalance.ratio).toBe(4.5);
    images.push({ path: '/b/x.png', label: 1, split: 'train', info: info(200) }, { path: '/b/y.png', label: 1, split: 'train', info: info(201) });
    expect(checkDataset({ classes: ['a', 'b'], images, undecodable: [] }).imbalance.warn).toBe(false);
  });
});

describe('mobilegrad check', () => {
  let cli: string;
  let planted: Planted;
  beforeAll(async () => {
    [cli, planted] = await Promise.all([buildCli(), plant()]);
  });

  it('prints the table and the findings, and the same as JSON', async () => {
    const r = await runCli(cli, ['check', '--data', planted.data, '--val', planted.val]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^cat\s+16\s+13\s+3$/m);
    expect(r.stdout).toMatch(/colour modes: .*rgb 16-bit 1/);
    expect(r.stdout).toMatch(/broken\.png: corrupt PNG/);
    expect(r.stdout).toMatch(/leaked\.webp \(cat, val\)/);
    const j = await runCli(cli, ['check', '--data', planted.data, '--val', planted.val, '--json']);
    expect(j.code, j.stderr).toBe(0);
    const json = JSON.parse(j.stdout) as DatasetCheck;
    expect(json.duplicates).toHaveLength(3);
    expect(json.total).toBe(37);
  });

  it('without --val checks the split train would make; bad input exits 2 with one line', async () => {
    const r = await runCli(cli, ['check', '--data', planted.data, '--json', '--val-split', '0.5', '--seed', '3']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as DatasetCheck;
    expect(json.total).toBe(30);
    // The stratified split: round(n / 2) of each class (13, 14, 3 images) held out.
    expect(json.classes.map((c) => c.val)).toEqual([7, 7, 2]);
    expect(json.val).toBe(16);
    const bad = await runCli(cli, ['check']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/needs --data/);
    const missing = await runCli(cli, ['check', '--data', '/nonexistent/photos']);
    expect(missing.code).toBe(2);
  });
});
