/**
 * int8 kernels against exact CPU references (test/support/int8-reference.ts), bit for bit, on
 * both code paths: the adapter's own ("auto": dot4I8Packed and the pack/unpack built-ins where
 * it reports packed_4x8_integer_dot_product) and the forced shift-and-mask fallback.
 */
import * as mg from '../../src/index.js';
import { int8Path, setInt8Path, type Int8Path } from '../../kernels/int8-path.js';
import { dequantize, int8Depthwise, int8Gemm, int8Pool, int8SeScale, int8Stem, quantizeImages, type Requant } from '../../src/quant/int8-ops.js';
import { cases, type Case } from '../support/cases.js';
import { CheckError, expectTrue } from '../support/check.js';
import { convRef, gemmRef, poolRef, randomFloats, randomInts, requantRef, roundEven, seScaleRef } from '../support/int8-reference.js';

type Act = 'none' | 'relu' | 'table';

/** Exact comparison; names the first differing element. */
function expectEqual(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  if (got.length !== want.length) throw new CheckError(`${what}: length ${got.length}, expected ${want.length}`);
  let bad = 0;
  let first = -1;
  for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) {
    bad++;
    if (first < 0) first = i;
  }
  if (bad) throw new CheckError(`${what}: ${bad} of ${got.length} elements differ; element ${first} is ${got[first]}, expected ${want[first]}`);
}

/** Within one unit everywhere (float rounding documented for the kernel), and exact on at least `minExact` of elements. */
function expectWithinOne(got: ArrayLike<number>, want: ArrayLike<number>, what: string, minExact = 0.99): void {
  let exact = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= 1)) throw new CheckError(`${what}: element ${i} is ${got[i]}, expected ${want[i]} (more than one unit)`);
    if (d === 0) exact++;
  }
  expectTrue(exact >= minExact * got.length, `${what}: only ${exact} of ${got.length} exact`);
}

/** Random requantization for `channels` outputs whose accumulators have about `accStd` spread. */
function makeRequant(channels: number, seed: number, accStd: number, act: Act) {
  const bias = randomInts(channels, seed, -4 * accStd | 0, 4 * accStd | 0);
  const mult = randomFloats(channels, seed + 1, 20 / accStd, 90 / accStd);
  const zp = randomInts(3, seed + 2, -40, 40)[2]!;
  const table = act === 'table' ? randomInts(256, seed + 3, -128, 127) : undefined;
  const ref = { bias, mult, table, zp, lo: act === 'relu' ? zp : -128 };
  const gpu = (): Requant => ({
    bias: mg.tensor(bias, [channels], { dtype: 'i32' }),
    mult: mg.tensor(mult, [channels]),
    table: table ? mg.tensor(table, [256], { dtype: 'i32' }) : undefined,
    zp,
    lo: ref.lo,
  });
  return { ref, gpu };
}

function releaseAll(...ts: (mg.Tensor | undefined)[]): void {
  for (const t of ts) t?.release();
}

function releaseRequant(r: Requant): void {
  releaseAll(r.bias, r.mult, r.table);
}

/** Runs `fn` with the int8 path forced (or the adapter's own with 'auto'), restoring it after. */
async function onPath(path: Int8Path | 'auto', fn: () => Promise<void>): Promise<void> {
  setInt8Path(path === 'auto' ? null : path);
  try {
    await fn();
  } finally {
    setInt8Path(null);
  }
}

let seed = 100;

async function checkGemm(m: number, k: number, n: number, act: Act, mode: 'int8' | 'float' | 'residual') {
  const s = seed += 10;
  const label = `gemm m=${m} k=${k} n=${n} ${act} ${mode} (${int8Path()})`;
  const a = randomInts(m * k, s, -128, 127);
  const w = randomInts(n * k, s + 1, -127, 127);
  const rq = makeRequant(n, s + 2, 5400 * Math.sqrt(k), act);
  const res = mode === 'residual' ? { x: randomInts(m * n, s + 3, -128, 127), zp: 7, mult: 0.37 } : undefined;
  const want = gemmRef(a, w, m, k, n, rq.ref, { floatOut: mode === 'float', res });
  const ta = mg.tensor(a, [m, k], { dtype: 'i8x4' });
  const tw = mg.tensor(w, [n, k], { dtype: 'i8x4' });
  const r = rq.gpu();
  const tr = res ? mg.tensor(res.x, [m, n], { dtype: 'i8x4' }) : undefined;
  const y = int8Gemm(ta, tw, r, { floatOut: mode === 'float', residual: tr && res ? { x: tr, zp: res.zp, mult: res.mult } : undefined });
  const got = await y.toArray();
  // Residual: a multiply-add in f32, which a compiler may fuse (docs/quantization.md): one unit.
  if (mode === 'residual') expectWithinOne(got, want, label);
  else expectEqual(got, want, label);
  releaseAll(ta, tw, tr, y);
  releaseRequant(r);
}

async function checkConv(kind: 'depthwise' | 'stem', n: number, h: number, w: number, c: number, k: number, stride: number, act: Act) {
  const s = seed += 10;
  const label = `${kind} x [${n},${h},${w},${kind === 'stem' ? 4 : c}] k${k} s${stride} ${act} (${int8Path()})`;
  const cin = kind === 'stem' ? 4 : c;
  const x = randomInts(n * h * w * cin, s, -128, 127);
  const wt = randomInts(kind === 'stem' ? k * k * c * 4 : k * k * c, s + 1, -127, 127);
  const zx = randomInts(3, s + 2, -100, 100)[2]!;
  const taps = kind === 'stem' ? k * k * 4 : k * k;
  const rq = makeRequant(c, s + 3, 5400 * Math.sqrt(taps), act);
  const want = convRef(x, [n, h, w, cin], wt, k, stride, c, kind === 'depthwise', zx, rq.ref);
  const tx = mg.tensor(x, [n, h, w, cin], { dtype: 'i8x4' });
  const tw = mg.tensor(wt, kind === 'stem' ? [k, k, c, 4] : [k, k, c], { dtype: 'i8x4' });
  const r = rq.gpu();
  const y = kind === 'stem' ? int8Stem(tx, tw, r, { stride, zx }) : int8Depthwise(tx, tw, r, { stride, zx });
  expectTrue(y.shape.join() === `${n},${want.ho},${want.wo},${c}`, `${label}: shape [${y.shape}]`);
  expectEqual(await y.toArray(), want.out, label);
  releaseAll(tx, tw, y);
  releaseRequant(r);
}

async function checkQuantizeInput(n: number, size: number) {
  const s = seed += 10;
  const bytes = Uint8Array.from(randomInts(n * size * size * 3, s, 0, 255));
  const table = randomInts(768, s + 1, -128, 127);
  const zp = -17;
  const want = new Int32Array(n * size * size * 4);
  for (let p = 0; p < n * size * size; p++) {
    for (let c = 0; c < 3; c++) want[p * 4 + c] = table[c * 256 + bytes[p * 3 + c]!]!;
    want[p * 4 + 3] = zp;
  }
  const px = mg.uploadImages(bytes, n, size);
  const tt = mg.tensor(table, [768], { dtype: 'i32' });
  const y = quantizeImages(px, n, size, tt, zp);
  expectEqual(await y.toArray(), want, `quantize input ${n}x${size}x${size} (${int8Path()})`);
  releaseAll(px, tt, y);
}

async function checkPool(n: number, h: number, w: number, c: number) {
  const s = seed += 10;
  const x = randomInts(n * h * w * c, s, -128, 127);
  const zx = 13;
  const zp = -9;
  const mult = Math.fround(0.8 / (h * w));
  const want = poolRef(x, n, h * w, c, zx, zp, mult);
  const tx = mg.tensor(x, [n, h, w, c], { dtype: 'i8x4' });
  const y = int8Pool(tx, zx, zp, mult);
  expectEqual(await y.toArray(), want, `pool [${n},${h},${w},${c}] (${int8Path()})`);
  releaseAll(tx, y);
}

async function checkSeScale(n: number, h: number, w: number, c: number) {
  const s = seed += 10;
  const x = randomInts(n * h * w * c, s, -128, 127);
  const g = randomInts(n * c, s + 1, -128, 127);
  const q = { zx: -5, zg: -128, zp: 3, mult: Math.fround(1 / 300) };
  const want = seScaleRef(x, g, n, h * w, c, q);
  const tx = mg.tensor(x, [n, h, w, c], { dtype: 'i8x4' });
  const tg = mg.tensor(g, [n, c], { dtype: 'i8x4' });
  const y = int8SeScale(tx, tg, q);
  expectEqual(await y.toArray(), want, `se scale [${n},${h},${w},${c}] (${int8Path()})`);
  releaseAll(tx, tg, y);
}

async function checkDequantize(count: number) {
  const x = randomInts(count, seed += 10, -128, 127);
  const scale = Math.fround(0.0371);
  const want = Array.from(x, (v) => Math.fround((v - 11) * scale));
  const tx = mg.tensor(x, [count / 4, 4], { dtype: 'i8x4' });
  const y = dequantize(tx, scale, 11);
  expectEqual(await y.toArray(), want, `dequantize ${count} (${int8Path()})`);
  releaseAll(tx, y);
}

function bothPaths(name: string, fn: () => Promise<void>): [string, () => Promise<void>][] {
  return [
    [`${name} (adapter's path)`, () => onPath('auto', fn)],
    [`${name} (forced fallback)`, () => onPath('fallback', fn)],
  ];
}

const list: [string, () => Promise<void>][] = [
  ['roundEven and requantization reference', async () => {
    expectTrue(roundEven(2.5) === 2 && roundEven(3.5) === 4 && roundEven(-2.5) === -2 && roundEven(-0.5) === 0 && roundEven(1.25) === 1, 'roundEven');
    expectTrue(requantRef(1000, 0.5, 0, -128) === 127 && requantRef(-1000, 0.5, 0, -128) === -128 && requantRef(-10, 1, 5, 5) === 5, 'requant clamps');
  }],
  ['the fallback is forced and the adapter path reported', async () => {
    setInt8Path('fallback');
    expectTrue(int8Path() === 'fallback', 'forced fallback');
    setInt8Path(null);
    const native = mg.getDevice().report.wgslLanguageFeatures.includes('packed_4x8_integer_dot_product');
    expectTrue(int8Path() === (native ? 'native' : 'fallback'), 'auto path follows the adapter');
  }],
  ...bothPaths('gemm 1x4x4, identity (one-row variant)', () => checkGemm(1, 4, 4, 'none', 'int8')),
  ...bothPaths('gemm 9x4x4, identity (tile of 8 rows, one partial)', () => checkGemm(9, 4, 4, 'none', 'int8')),
  ...bothPaths('gemm 49x12x20 (tails in m and n), ReLU', () => checkGemm(49, 12, 20, 'relu', 'int8')),
  ...bothPaths('gemm 67x40x24, table (h-swish)', () => checkGemm(67, 40, 24, 'table', 'int8')),
  ...bothPaths('gemm 37x96x36, fused residual', () => checkGemm(37, 96, 36, 'none', 'residual')),
  ...bothPaths('gemm 3x44x10, float logits (n not a multiple of 4)', () => checkGemm(3, 44, 10, 'none', 'float')),
  ...bothPaths('gemm 5x576x7, float logits (the one-row variant: m < 8)', () => checkGemm(5, 576, 7, 'none', 'float')),
  ...bothPaths('gemm 1x144x20, table (one-row variant)', () => checkGemm(1, 144, 20, 'table', 'int8')),
  ...bothPaths('gemm 7x40x12, fused residual (one-row variant)', () => checkGemm(7, 40, 12, 'none', 'residual')),
  ...bothPaths('depthwise k3 s1 x [1,7,9,12] ReLU', () => checkConv('depthwise', 1, 7, 9, 12, 3, 1, 'relu')),
  ...bothPaths('depthwise k3 s2 x [2,9,7,4] identity', () => checkConv('depthwise', 2, 9, 7, 4, 3, 2, 'none')),
  ...bothPaths('depthwise k5 s1 x [1,6,11,20] table', () => checkConv('depthwise', 1, 6, 11, 20, 5, 1, 'table')),
  ...bothPaths('depthwise k5 s2 x [2,11,10,8] table', () => checkConv('depthwise', 2, 11, 10, 8, 5, 2, 'table')),
  ...bothPaths('stem k3 s2 x [1,13,9,4] -> 16, table', () => checkConv('stem', 1, 13, 9, 16, 3, 2, 'table')),
  ...bothPaths('stem k3 s1 x [2,6,7,4] -> 12, ReLU', () => checkConv('stem', 2, 6, 7, 12, 3, 1, 'relu')),
  ...bothPaths('quantize input 2 images 5x5', () => checkQuantizeInput(2, 5)),
  ...bothPaths('pool [3,5,3,12]', () => checkPool(3, 5, 3, 12)),
  ...bothPaths('se scale [2,3,5,20]', () => checkSeScale(2, 3, 5, 20)),
  ...bothPaths('dequantize 36', () => checkDequantize(36)),
];

const int8Cases: Case[] = cases('int8', list);
export default int8Cases;
