import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { scanImageFolder } from '../src/data/scan-folder.js';
import { UsageError } from '../src/data/usage-error.js';
import { decodeImage, exifOrientation, applyOrientation } from '../src/data/decode-image.js';
import { resizeRgb, centerSquare } from '../src/data/resize.js';
import { loadImageFolder, defaultCacheDir } from '../src/data/dataset.js';
import { stratifiedSplit } from '../src/data/split.js';
import { recommendRecipe } from '../src/data/recipe.js';
import { shuffledBatches, assembleBatch, IMAGENET_MEAN, IMAGENET_STD } from '../src/data/batches.js';
import { MobilegradError } from '../src/device/errors.js';

// ---------- fixtures ----------

const roots: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'mobilegrad-data-'));
  roots.push(d);
  return d;
}
afterAll(() => { for (const d of roots) rmSync(d, { recursive: true, force: true }); });

/** An RGBA PNG encoded by pngjs; `colorType` 0 = gray, 4 = gray+alpha, 2 = RGB, 6 = RGBA. */
function pngBytes(w: number, h: number, px: (x: number, y: number) => [number, number, number, number], colorType: 0 | 2 | 4 | 6 = 6): Buffer {
  const png = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) png.data.set(px(x, y), (y * w + x) * 4);
  return PNG.sync.write(png, { colorType });
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; t[n] = c >>> 0; }
  return t;
})();
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const v of b) c = CRC_TABLE[(c ^ v) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}
/** A hand-assembled PNG (for formats pngjs cannot write: palette, 16-bit). `rows` are unfiltered scanlines. */
function rawPng(w: number, h: number, depth: number, colorType: number, rows: Uint8Array[], extra: Buffer[] = []): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = depth; ihdr[9] = colorType; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const raw = Buffer.concat(rows.map((r) => Buffer.concat([Buffer.from([0]), r])));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), ...extra,
    chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A minimal baseline grayscale JPEG (1 component, 8x8, DC only): every pixel decodes to 128 + 200/8 = 153. */
function grayJpeg(): Uint8Array {
  const seg = (m: number, body: number[]) => [0xff, m, ((body.length + 2) >> 8) & 255, (body.length + 2) & 255, ...body];
  const counts = [1, ...new Array(15).fill(0)];
  return Uint8Array.from([0xff, 0xd8,
    ...seg(0xdb, [0x00, ...new Array(64).fill(1)]),
    ...seg(0xc0, [8, 0, 8, 0, 8, 1, 1, 0x11, 0]),
    ...seg(0xc4, [0x00, ...counts, 8]),       // DC: one code "0" -> category 8
    ...seg(0xc4, [0x10, ...counts, 0]),       // AC: one code "0" -> end of block
    ...seg(0xda, [1, 1, 0x00, 0, 63, 0]),
    0x64, 0x3f,                               // 0 11001000 0 (+ padding): DC = 200, EOB
    0xff, 0xd9]);
}

function colourJpeg(w: number, h: number, px: (x: number, y: number) => [number, number, number]): Buffer {
  const data = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([...px(x, y), 255], (y * w + x) * 4);
  return jpeg.encode({ width: w, height: h, data }, 95).data;
}

/** Inserts an EXIF APP1 segment with the given orientation right after the JPEG's SOI marker. */
function withOrientation(jpg: Uint8Array, orientation: number): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write('II', 0, 'ascii'); tiff.writeUInt16LE(42, 2); tiff.writeUInt32LE(8, 4);
  tiff.writeUInt16LE(1, 8);
  tiff.writeUInt16LE(0x0112, 10); tiff.writeUInt16LE(3, 12); tiff.writeUInt32LE(1, 14); tiff.writeUInt16LE(orientation, 18);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'binary'), tiff]);
  const head = Buffer.from([0xff, 0xe1, ((body.length + 2) >> 8) & 255, (body.length + 2) & 255]);
  return Buffer.concat([Buffer.from(jpg.subarray(0, 2)), head, body, Buffer.from(jpg.subarray(2))]);
}

function expectUsage(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(UsageError);
  expect(err).toBeInstanceOf(MobilegradError);
  expect((err as UsageError).exitCode).toBe(2);
  expect((err as Error).message).toMatch(pattern);
  expect((err as Error).message).not.toContain('\n');
}

const solid = (r: number, g: number, b: number) => () => [r, g, b, 255] as [number, number, number, number];

/** A dataset folder with `perClass` small PNGs in each class. */
function makeDataset(classes: Record<string, number>, size = 12): string {
  const root = join(tempDir(), 'photos');
  mkdirSync(root);
  let k = 0;
  for (const [cls, n] of Object.entries(classes)) {
    mkdirSync(join(root, cls));
    for (let i = 0; i < n; i++, k++) {
      writeFileSync(join(root, cls, `img${i}.png`), pngBytes(size, size, (x, y) => [(x * 20 + k) & 255, (y * 20) & 255, (k * 37) & 255, 255]));
    }
  }
  return root;
}

// ---------- scan ----------

describe('scanImageFolder', () => {
  it('refuses a missing folder', () => {
    expectUsage(() => scanImageFolder(join(tempDir(), 'nope')), /Dataset folder not found: .*nope: check the path/);
  });
  it('refuses a file', () => {
    const f = join(tempDir(), 'a.png');
    writeFileSync(f, 'x');
    expectUsage(() => scanImageFolder(f), /is a file, not a folder/);
  });
  it('refuses a folder with no class subfolders', () => {
    const d = tempDir();
    writeFileSync(join(d, 'loose.png'), pngBytes(2, 2, solid(1, 2, 3)));
    expectUsage(() => scanImageFolder(d), /No class subfolders in .*: put each class's images in a subfolder/);
  });
  it('refuses a single class', () => {
    const root = makeDataset({ cats: 3 });
    expectUsage(() => scanImageFolder(root, { allowSmall: true }), /Only one class \("cats"\).*at least two class subfolders/);
  });
  it('refuses a class folder without images, naming it', () => {
    const root = makeDataset({ cats: 2, dogs: 0 });
    writeFileSync(join(root, 'dogs', 'notes.txt'), 'hello');
    expectUsage(() => scanImageFolder(root, { allowSmall: true }), /Class folder "dogs" .* has no images \(PNG, JPEG, WebP, GIF, BMP, TIFF or AVIF files\)/);
  });
  it('refuses fewer than minImages unless allowSmall', () => {
    const root = makeDataset({ a: 3, b: 3 });
    expectUsage(() => scanImageFolder(root), /Only 6 images in .*fewer than the 200 .*use --allow-small to train anyway/);
    expectUsage(() => scanImageFolder(root, { minImages: 10 }), /fewer than the 10 /);
    expect(scanImageFolder(root, { allowSmall: true }).files).toHaveLength(6);
    expect(scanImageFolder(root, { minImages: 6 }).files).toHaveLength(6);
  });
  it('lists classes sorted, skips non-images with a reason, ignores hidden files, reads nested folders', () => {
    const root = makeDataset({ zebra: 2, ant: 2 });
    writeFileSync(join(root, 'ant', 'readme.txt'), 'x');
    writeFileSync(join(root, 'ant', '.DS_Store'), 'x');
    mkdirSync(join(root, '.hidden-class'));
    writeFileSync(join(root, '.hidden-class', 'a.png'), 'x');
    writeFileSync(join(root, 'top.png'), 'x');
    mkdirSync(join(root, 'zebra', 'more'));
    writeFileSync(join(root, 'zebra', 'more', 'X.JPG'), 'x');
    const s = scanImageFolder(root, { allowSmall: true });
    expect(s.classes).toEqual(['ant', 'zebra']);
    expect(s.files.map((f) => f.label)).toEqual([0, 0, 1, 1, 1]);
    expect(s.files.some((f) => f.path.endsWith(join('more', 'X.JPG')))).toBe(true);
    const reasons = Object.fromEntries(s.skipped.map((k) => [k.path.slice(root.length + 1), k.reason]));
    expect(reasons[join('ant', 'readme.txt')]).toMatch(/not an image \(\.txt\)/);
    expect(reasons['top.png']).toMatch(/not inside a class subfolder/);
    expect(Object.keys(reasons).some((p) => p.includes('.DS_Store') || p.includes('.hidden'))).toBe(false);
  });
});

// ---------- decode ----------

describe('decodeImage', () => {
  it('decodes grayscale PNG to RGB', () => {
    const img = decodeImage(pngBytes(3, 2, (x, y) => [x * 100, x * 100, x * 100, 255], 0), 'g.png');
    expect([img.width, img.height]).toEqual([3, 2]);
    expect(Array.from(img.rgb.subarray(0, 9))).toEqual([0, 0, 0, 100, 100, 100, 200, 200, 200]);
  });
  it('decodes RGB PNG', () => {
    const img = decodeImage(pngBytes(2, 1, (x) => [10 + x, 20, 30, 255], 2), 'rgb.png');
    expect(Array.from(img.rgb)).toEqual([10, 20, 30, 11, 20, 30]);
  });
  it('composites RGBA PNG on white', () => {
    const img = decodeImage(pngBytes(3, 1, (x) => [[0, 0, 0, 255], [0, 0, 0, 0], [200, 100, 0, 128]][x] as [number, number, number, number]), 'a.png');
    expect(Array.from(img.rgb.subarray(0, 6))).toEqual([0, 0, 0, 255, 255, 255]);
    const mix = (c: number) => Math.round((c * 128 + 255 * 127) / 255);
    expect(Array.from(img.rgb.subarray(6, 9))).toEqual([mix(200), mix(100), mix(0)]);
  });
  it('composites grayscale + alpha PNG on white', () => {
    const img = decodeImage(pngBytes(2, 1, (x) => [50, 50, 50, x === 0 ? 255 : 0], 4), 'ga.png');
    expect(Array.from(img.rgb)).toEqual([50, 50, 50, 255, 255, 255]);
  });
  it('decodes palette PNG (with tRNS transparency)', () => {
    const plte = chunk('PLTE', Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255]));
    const trns = chunk('tRNS', Buffer.from([255, 255, 0]));
    const bytes = rawPng(3, 1, 8, 3, [Uint8Array.from([0, 1, 2])], [plte, trns]);
    const img = decodeImage(bytes, 'p.png');
    expect(Array.from(img.rgb)).toEqual([255, 0, 0, 0, 255, 0, 255, 255, 255]);
  });
  it('decodes 4-bit palette and 16-bit RGB PNG', () => {
    const plte = chunk('PLTE', Buffer.from([0, 0, 0, 10, 20, 30]));
    const p4 = decodeImage(rawPng(2, 1, 4, 3, [Uint8Array.from([0x10])], [plte]), 'p4.png');
    expect(Array.from(p4.rgb)).toEqual([10, 20, 30, 0, 0, 0]);
    const row = Buffer.alloc(6);
    row.writeUInt16BE(65535, 0); row.writeUInt16BE(0, 2); row.writeUInt16BE(32896, 4); // 32896 / 257 = 128
    const p16 = decodeImage(rawPng(1, 1, 16, 2, [row]), 'p16.png');
    expect(Array.from(p16.rgb)).toEqual([255, 0, 128]);
  });
  it('decodes colour JPEG, near the encoded colours', () => {
    const bytes = colourJpeg(16, 16, (x) => (x < 8 ? [200, 40, 40] : [30, 60, 220]));
    const img = decodeImage(bytes, 'c.jpg');
    expect([img.width, img.height]).toEqual([16, 16]);
    const at = (x: number, y: number) => Array.from(img.rgb.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3));
    at(2, 5).forEach((v, i) => expect(Math.abs(v - [200, 40, 40][i])).toBeLessThanOrEqual(8));
    at(13, 9).forEach((v, i) => expect(Math.abs(v - [30, 60, 220][i])).toBeLessThanOrEqual(8));
  });
  it('decodes grayscale JPEG to RGB', () => {
    const img = decodeImage(grayJpeg(), 'g.jpg');
    expect([img.width, img.height]).toEqual([8, 8]);
    for (const v of img.rgb) expect(Math.abs(v - 153)).toBeLessThanOrEqual(1);
  });
  it('detects the format by magic bytes, not the file name', () => {
    const img = decodeImage(pngBytes(2, 2, solid(9, 8, 7)), 'misnamed.jpg');
    expect(Array.from(img.rgb.subarray(0, 3))).toEqual([9, 8, 7]);
  });
  it('applies EXIF orientation to JPEGs', () => {
    // 16x8: left half red, right half blue. Orientation 6 (rotate 90 degrees clockwise) -> 8x16, top red.
    const jpg = colourJpeg(16, 8, (x) => (x < 8 ? [220, 20, 20] : [20, 20, 220]));
    const img = decodeImage(withOrientation(jpg, 6), 'rot.jpg');
    expect([img.width, img.height]).toEqual([8, 16]);
    expect(img.rgb[(2 * 8 + 4) * 3]).toBeGreaterThan(150);        // top: red
    expect(img.rgb[(13 * 8 + 4) * 3 + 2]).toBeGreaterThan(150);   // bottom: blue
  });
  it('maps all eight orientations consistently', () => {
    const src = { width: 3, height: 2, rgb: Uint8Array.from([0, 1, 2, 3, 4, 5].flatMap((v) => [v, v, v])) };
    const grid = (o: number) => { const r = applyOrientation(src, o); return [r.width, r.height, ...Array.from(r.rgb).filter((_, i) => i % 3 === 0)]; };
    expect(grid(1)).toEqual([3, 2, 0, 1, 2, 3, 4, 5]);
    expect(grid(2)).toEqual([3, 2, 2, 1, 0, 5, 4, 3]);
    expect(grid(3)).toEqual([3, 2, 5, 4, 3, 2, 1, 0]);
    expect(grid(4)).toEqual([3, 2, 3, 4, 5, 0, 1, 2]);
    expect(grid(5)).toEqual([2, 3, 0, 3, 1, 4, 2, 5]);
    expect(grid(6)).toEqual([2, 3, 3, 0, 4, 1, 5, 2]);
    expect(grid(7)).toEqual([2, 3, 5, 2, 4, 1, 3, 0]);
    expect(grid(8)).toEqual([2, 3, 2, 5, 1, 4, 0, 3]);
    expect(exifOrientation(Uint8Array.from([1, 2, 3]))).toBe(1);
  });
  it('throws a short reason for corrupt, truncated, empty and unknown files', () => {
    const good = pngBytes(8, 8, solid(1, 2, 3));
    expect(() => decodeImage(good.subarray(0, good.length - 30), 'cut.png')).toThrow(/^cut\.png: corrupt PNG \(.+\)$/);
    const bad = Buffer.from(good); bad[40] ^= 0xff; // IDAT byte: CRC mismatch
    expect(() => decodeImage(bad, 'crc.png')).toThrow(/^crc\.png: corrupt PNG/);
    const jpg = colourJpeg(32, 32, () => [1, 2, 3]);
    expect(() => decodeImage(jpg.subarray(0, jpg.length >> 1), 'cut.jpg')).toThrow(/^cut\.jpg: truncated JPEG/);
    expect(() => decodeImage(new Uint8Array(0), 'e.png')).toThrow(/empty file/);
    expect(() => decodeImage(Buffer.from('GIF89a......'), 'x.gif')).toThrow(/GIF is read only by the Node decoder/);
    expect(() => decodeImage(Buffer.from('not an image at all'), 'x.png')).toThrow(/unrecognised file signature/);
  });
});

// ---------- resize ----------

/** Float64 reference: center square crop, then bilinear (align_corners=false) or area average beyond 2x. */
function referenceResize(rgb: Uint8Array, w: number, h: number, size: number): Float64Array {
  const side = Math.min(w, h), ox = Math.floor((w - side) / 2), oy = Math.floor((h - side) / 2);
  const scale = side / size;
  const src = (x: number, y: number, c: number) => rgb[((oy + y) * w + ox + x) * 3 + c];
  const out = new Float64Array(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < 3; c++) {
    let v = 0;
    if (scale > 2) {
      const x0 = x * scale, x1 = (x + 1) * scale, y0 = y * scale, y1 = (y + 1) * scale;
      for (let sy = Math.floor(y0); sy < Math.ceil(y1); sy++) for (let sx = Math.floor(x0); sx < Math.ceil(x1); sx++) {
        const cover = (Math.min(x1, sx + 1) - Math.max(x0, sx)) * (Math.min(y1, sy + 1) - Math.max(y0, sy));
        v += src(Math.min(sx, side - 1), Math.min(sy, side - 1), c) * cover;
      }
      v /= scale * scale;
    } else {
      const fx = Math.min(side - 1, Math.max(0, (x + 0.5) * scale - 0.5)), fy = Math.min(side - 1, Math.max(0, (y + 0.5) * scale - 0.5));
      const xa = Math.floor(fx), ya = Math.floor(fy), xb = Math.min(side - 1, xa + 1), yb = Math.min(side - 1, ya + 1);
      const ax = fx - xa, ay = fy - ya;
      v = (1 - ay) * ((1 - ax) * src(xa, ya, c) + ax * src(xb, ya, c)) + ay * ((1 - ax) * src(xa, yb, c) + ax * src(xb, yb, c));
    }
    out[(y * size + x) * 3 + c] = v;
  }
  return out;
}

describe('resizeRgb', () => {
  const W = 50, H = 37;
  const grad = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    grad.set([x * 5, y * 6, (x * y * 3) & 255], (y * W + x) * 3);
  }
  for (const size of [12, 24, 37, 64, 9]) {
    it(`matches a float64 reference from 50x37 to ${size}x${size} (${37 / size > 2 ? 'area' : 'bilinear'})`, () => {
      const got = resizeRgb(grad, W, H, size);
      const ref = referenceResize(grad, W, H, size);
      let maxErr = 0;
      for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - ref[i]));
      expect(maxErr).toBeLessThanOrEqual(0.5 + 1e-3);
    });
  }
  it('is the identity on a square image of the same size, and crops the centre', () => {
    expect(centerSquare(50, 37)).toEqual({ x: 6, y: 0, side: 37 });
    expect(centerSquare(20, 31)).toEqual({ x: 0, y: 5, side: 20 });
    const crop = new Uint8Array(37 * 37 * 3);
    for (let y = 0; y < 37; y++) crop.set(grad.subarray((y * W + 6) * 3, (y * W + 6 + 37) * 3), y * 37 * 3);
    expect(resizeRgb(grad, W, H, 37)).toEqual(crop);
  });
  it('keeps a constant image constant when shrinking a lot', () => {
    const big = new Uint8Array(640 * 480 * 3).fill(77);
    expect(new Set(resizeRgb(big, 640, 480, 10))).toEqual(new Set([77]));
  });
});

// ---------- dataset ----------

describe('loadImageFolder', () => {
  let root: string;
  let cacheDir: string;
  beforeAll(() => {
    root = makeDataset({ cats: 4, dogs: 3 });
    writeFileSync(join(root, 'dogs', 'broken.png'), pngBytes(8, 8, solid(1, 1, 1)).subarray(0, 50));
    writeFileSync(join(root, 'dogs', 'notes.txt'), 'not an image');
    writeFileSync(join(root, 'cats', 'photo.jpeg'), colourJpeg(20, 10, () => [240, 10, 10]));
    cacheDir = join(tempDir(), 'cache');
  });

  it('decodes every image, skips corrupt and non-image files, then loads from the cache', async () => {
    const seen: number[] = [];
    const a = await loadImageFolder(root, { imageSize: 8, cacheDir, allowSmall: true, onProgress: (d, t) => seen.push(d / t) });
    expect(a.classes).toEqual(['cats', 'dogs']);
    expect(a.count).toBe(8);
    expect(a.images.length).toBe(8 * 8 * 8 * 3);
    expect(Array.from(a.labels)).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
    expect(a.stats).toEqual({ decoded: 8, fromCache: 0 });
    expect(seen.at(-1)).toBe(1);
    const reasons = a.skipped.map((s) => `${s.path.split(/[\\/]/).pop()}: ${s.reason}`);
    expect(reasons.some((r) => /^broken\.png: .*PNG/.test(r))).toBe(true);
    expect(reasons.some((r) => /^notes\.txt: not an image/.test(r))).toBe(true);
    // The JPEG (20x10, red) is center-cropped and resized.
    const j = a.paths.findIndex((p) => p.endsWith('photo.jpeg'));
    expect(a.images[j * 192]).toBeGreaterThan(220);
    // No temporary files remain in the cache: pixels and image facts, one file each per image.
    const files = readdirSync(cacheDir);
    expect(files).toHaveLength(16);
    expect(files.filter((f) => /^v2-8-[0-9a-f]{40}\.rgb$/.test(f))).toHaveLength(8);
    expect(files.filter((f) => /^info-v1-[0-9a-f]{40}\.json$/.test(f))).toHaveLength(8);

    const b = await loadImageFolder(root, { imageSize: 8, cacheDir, allowSmall: true });
    expect(b.stats).toEqual({ decoded: 0, fromCache: 8 });
    expect(b.images).toEqual(a.images);
    expect(b.labels).toEqual(a.labels);

    const c = await loadImageFolder(root, { imageSize: 6, cacheDir, allowSmall: true });
    expect(c.stats).toEqual({ decoded: 8, fromCache: 0 });
  });

  it('uses <parent>/.cache/mobilegrad by default, and no cache when cacheDir is null', async () => {
    const small = makeDataset({ a: 1, b: 1 });
    expect(defaultCacheDir(small)).toBe(join(dirname(small), '.cache', 'mobilegrad'));
    const r = await loadImageFolder(small, { imageSize: 4, allowSmall: true });
    expect(r.cacheDir).toBe(defaultCacheDir(small));
    expect(readdirSync(r.cacheDir!)).toHaveLength(4);
    const other = makeDataset({ a: 1, b: 1 });
    const n = await loadImageFolder(other, { imageSize: 4, allowSmall: true, cacheDir: null });
    expect(n.cacheDir).toBeNull();
    expect(existsSync(defaultCacheDir(other))).toBe(false);
    expect(n.stats.decoded).toBe(2);
  });

  it('refuses when too few images survive decoding', async () => {
    const d = makeDataset({ a: 2, b: 2 });
    writeFileSync(join(d, 'b', 'img0.png'), 'garbage');
    await expect(loadImageFolder(d, { imageSize: 4, minImages: 4, cacheDir: null })).rejects.toThrow(/Only 3 of 4 images could be read .*--allow-small/);
    writeFileSync(join(d, 'b', 'img1.png'), 'garbage');
    await expect(loadImageFolder(d, { imageSize: 4, allowSmall: true, cacheDir: null })).rejects.toThrow(/Class "b" has no readable images/);
  });
});

// ---------- split, recipe, batches ----------

describe('stratifiedSplit', () => {
  const labels = [...new Array(10).fill(0), ...new Array(5).fill(1), 2, 2, 3];
  it('keeps every class in proportion, at least one validation image per class of 2+', () => {
    const s = stratifiedSplit(labels, 0.2, 7);
    const count = (idx: number[], c: number) => idx.filter((i) => labels[i] === c).length;
    expect([0, 1, 2, 3].map((c) => count(s.val, c))).toEqual([2, 1, 1, 0]);
    expect([0, 1, 2, 3].map((c) => count(s.train, c))).toEqual([8, 4, 1, 1]);
    expect([...s.train, ...s.val].sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
    expect(s.train).toEqual([...s.train].sort((a, b) => a - b));
  });
  it('is deterministic per seed', () => {
    expect(stratifiedSplit(labels, 0.3, 1)).toEqual(stratifiedSplit(Int32Array.from(labels), 0.3, 1));
    const many = Array.from({ length: 200 }, (_, i) => i % 4);
    expect(stratifiedSplit(many, 0.25, 1).val).not.toEqual(stratifiedSplit(many, 0.25, 2).val);
  });
  it('holds out nothing at fraction 0 and rejects fractions outside [0, 1)', () => {
    expect(stratifiedSplit(labels, 0, 1).val).toEqual([]);
    expect(() => stratifiedSplit(labels, 1, 1)).toThrow(RangeError);
  });
});

describe('recommendRecipe', () => {
  it('follows the size-based recipes', () => {
    const pick = (n: number) => { const r = recommendRecipe(n); return [r.lr, r.epochs, r.batchSize, r.augmentation]; };
    expect(pick(300)).toEqual([5e-4, 80, 16, 'max']);
    expect(pick(1000)).toEqual([1e-3, 40, 32, 'heavy']);
    expect(pick(3000)).toEqual([1e-3, 25, 64, 'standard']);
    expect(pick(8000)).toEqual([1e-3, 25, 64, 'standard']);
    expect(pick(500)).toEqual([1e-3, 40, 32, 'heavy']);
    expect(pick(2000)).toEqual([1e-3, 25, 64, 'standard']);
  });
  it('explains itself, and notes a larger model only above 5,000 images', () => {
    expect(recommendRecipe(3000).reasons.join(' ')).not.toMatch(/larger model/);
    expect(recommendRecipe(5000).reasons.join(' ')).not.toMatch(/larger model/);
    expect(recommendRecipe(8000).reasons.join(' ')).toMatch(/larger model/);
    expect(recommendRecipe(120).reasons[0]).toMatch(/below the 200-image minimum/);
    for (const n of [300, 1000, 3000]) expect(recommendRecipe(n).reasons.length).toBeGreaterThanOrEqual(2);
  });
});

describe('batches', () => {
  it('shuffles deterministically and covers every index once', () => {
    const idx = Array.from({ length: 23 }, (_, i) => i * 2);
    const a = shuffledBatches(idx, 5, 3, false);
    expect(a.map((b) => b.length)).toEqual([5, 5, 5, 5, 3]);
    expect(a.flat().sort((x, y) => x - y)).toEqual(idx);
    expect(shuffledBatches(idx, 5, 3, false)).toEqual(a);
    expect(shuffledBatches(idx, 5, 4, false)).not.toEqual(a);
    expect(shuffledBatches(idx, 5, 3, true).map((b) => b.length)).toEqual([5, 5, 5, 5]);
    expect(a.flat()).not.toEqual(idx);
  });
  it('assembles a normalised float32 NHWC batch', () => {
    const size = 2, stride = size * size * 3;
    const images = new Uint8Array(3 * stride);
    images.fill(0, 0, stride); images.fill(255, stride, 2 * stride);
    for (let i = 0; i < stride; i++) images[2 * stride + i] = i * 20;
    const out = assembleBatch(images, size, [2, 0, 1]);
    expect(out.length).toBe(3 * stride);
    for (let i = 0; i < stride; i++) {
      const c = i % 3;
      expect(out[i]).toBeCloseTo((i * 20 / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c], 5);
      expect(out[stride + i]).toBeCloseTo(-IMAGENET_MEAN[c] / IMAGENET_STD[c], 5);
      expect(out[2 * stride + i]).toBeCloseTo((1 - IMAGENET_MEAN[c]) / IMAGENET_STD[c], 5);
    }
    expect(() => assembleBatch(images, size, [3])).toThrow(RangeError);
  });
});
