/**
 * Element types a tensor can hold on the GPU.
 * - `f32`: float32, the training type.
 * - `f16`: float16 storage (2 per u32 word); math in f16 needs the adapter's `shader-f16`.
 * - `i32` / `u32`: 32-bit integers (int8 accumulators, labels, indices).
 * - `i8x4`: int8, packed four to a u32 word, little-endian (element 4k is the low byte of word k).
 */
export type DType = 'f32' | 'f16' | 'i32' | 'u32' | 'i8x4';

/** Bytes a tensor of `numel` elements takes on the GPU (a multiple of 4: WGSL reads u32 words). */
export function byteSize(dtype: DType, numel: number): number {
  switch (dtype) {
    case 'f16':
      return Math.ceil(numel / 2) * 4;
    case 'i8x4':
      return Math.ceil(numel / 4) * 4;
    default:
      return numel * 4;
  }
}

export type HostArray = Float32Array | Int32Array | Uint32Array | Int8Array;

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: readonly number[], where: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${where}: invalid shape [${shape.join(', ')}]: dimensions are non-negative integers`);
  }
}

/** float32 -> float16 bits, round to nearest even. */
export function f32ToF16Bits(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  let exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** float16 bits -> number. */
export function f16BitsToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
