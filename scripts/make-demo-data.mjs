#!/usr/bin/env node
// Builds the small demo dataset in data/fashion-mnist/ from Debian's `dataset-fashion-mnist`
// package (Zalando Research's Fashion-MNIST, MIT licence).
//
//   apt-get install -y dataset-fashion-mnist
//   node scripts/make-demo-data.mjs [--src /usr/share/datasets/fashion-mnist] [--out data/fashion-mnist]
//                                   [--train-per-class 200] [--test-per-class 100]
//
// Output: <out>/train/<class>/<nnn>.png (200 per class, from the train split) and
// <out>/test/<class>/<nnn>.png (100 per class, from the t10k split), 28x28 8-bit grayscale PNGs.
// The choice is deterministic: the indices of each split are shuffled with a fixed seed
// (mulberry32 + Fisher-Yates) and the first N images of each class in that order are kept.
// Running the script again produces byte-identical files.

import { readFileSync, mkdirSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { PNG } from 'pngjs';

const CLASSES = [
  '0-tshirt-top', '1-trouser', '2-pullover', '3-dress', '4-coat',
  '5-sandal', '6-shirt', '7-sneaker', '8-bag', '9-ankle-boot',
];

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const SRC = arg('--src', '/usr/share/datasets/fashion-mnist');
const OUT = arg('--out', 'data/fashion-mnist');

/** Reads a gzipped IDX file: big-endian magic (0x00 0x00 type ndims), ndims u32 sizes, then u8 data. */
function readIdx(path) {
  const buf = gunzipSync(readFileSync(path));
  if (buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0x08) throw new Error(`${path}: not an unsigned-byte IDX file`);
  const ndims = buf[3];
  const dims = [];
  for (let d = 0; d < ndims; d++) dims.push(buf.readUInt32BE(4 + 4 * d));
  const offset = 4 + 4 * ndims;
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== offset + count) throw new Error(`${path}: size mismatch`);
  return { dims, data: buf.subarray(offset) };
}

/** mulberry32: a small, well-known 32-bit seeded PRNG returning floats in [0, 1). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffledIndices(n, seed) {
  const rand = mulberry32(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

function writeSplit(split, prefix, perClass, seed) {
  const images = readIdx(join(SRC, `${prefix}-images-idx3-ubyte.gz`));
  const labels = readIdx(join(SRC, `${prefix}-labels-idx1-ubyte.gz`));
  const [n, h, w] = images.dims;
  if (labels.dims[0] !== n) throw new Error(`${prefix}: ${n} images but ${labels.dims[0]} labels`);
  const dir = join(OUT, split);
  if (existsSync(dir)) rmSync(dir, { recursive: true });
  const counts = new Array(CLASSES.length).fill(0);
  for (const c of CLASSES) mkdirSync(join(dir, c), { recursive: true });
  for (const i of shuffledIndices(n, seed)) {
    const label = labels.data[i];
    if (counts[label] >= perClass) continue;
    const png = new PNG({ width: w, height: h, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
    png.data = Buffer.from(images.data.subarray(i * h * w, (i + 1) * h * w));
    const file = join(dir, CLASSES[label], `${String(counts[label]).padStart(3, '0')}.png`);
    writeFileSync(file, PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 }));
    counts[label]++;
    if (counts.every((k) => k >= perClass)) break;
  }
  if (!counts.every((k) => k === perClass)) throw new Error(`${split}: not enough images per class: ${counts}`);
  console.log(`${split}: ${perClass} x ${CLASSES.length} images of ${w}x${h} from ${n} in ${prefix}`);
}

// Larger sets (say --train-per-class 500 for the page's 5,000-image run) keep the same order, so
// the demo's images are the first of them.
writeSplit('train', 'train', Number(arg('--train-per-class', '200')), 20241124);
writeSplit('test', 't10k', Number(arg('--test-per-class', '100')), 20241125);
