/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * mapping names to {dtype, shape, data_offsets}, then the raw little-endian data.
 */
import { MobilegradError } from '../device/errors.js';

export type SafeDType = 'F32' | 'F16' | 'I32' | 'I8' | 'I64' | 'U8';

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: Uint8Array;
}

const BYTES: Record<SafeDType, number> = { F32: 4, F16: 2, I32: 4, I8: 1, I64: 8, U8: 1 };

/** Parses a safetensors file. Throws a MobilegradError naming what is wrong. */
export function parseSafetensors(input: Uint8Array, what = 'file'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  // A plain Uint8Array view: a Node Buffer's slice() shares memory, which asFloat32 would misread.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (bytes.byteLength < 8) throw new MobilegradError(`${what} is not a safetensors file (too short)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = Number(dv.getBigUint64(0, true));
  if (len <= 0 || 8 + len > bytes.byteLength) throw new MobilegradError(`${what} is not a safetensors file (bad header length)`);
  let header: Record<string, { dtype: SafeDType; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + len)));
  } catch {
    throw new MobilegradError(`${what} is not a safetensors file (header is not JSON)`);
  }
  const base = 8 + len;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info as Record<string, string>;
      continue;
    }
    const t = info as { dtype: SafeDType; shape: number[]; data_offsets: [number, number] };
    const [b, e] = t.data_offsets;
    if (!(t.dtype in BYTES)) throw new MobilegradError(`${what}: tensor '${name}' has unsupported dtype ${t.dtype}`);
    const n = t.shape.reduce((a, d) => a * d, 1);
    if (e - b !== n * BYTES[t.dtype] || base + e > bytes.byteLength) throw new MobilegradError(`${what}: tensor '${name}' is truncated or inconsistent`);
    tensors.set(name, { dtype: t.dtype, shape: t.shape, data: bytes.slice(base + b, base + e) });
  }
  return { tensors, metadata };
}

/** Serialises tensors (in the given order) to safetensors bytes. */
export function serializeSafetensors(tensors: [string, SafeTensor][], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' '; // data aligned to 8 bytes, as the reference writer does
  const hbytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hbytes.byteLength + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.byteLength), true);
  out.set(hbytes, 8);
  let p = 8 + hbytes.byteLength;
  for (const [, t] of tensors) {
    out.set(t.data, p);
    p += t.data.byteLength;
  }
  return out;
}

/** float32 view of an F32 tensor's bytes (copied, aligned). */
export function asFloat32(t: SafeTensor, name: string): Float32Array {
  if (t.dtype === 'F32') return new Float32Array(t.data.slice().buffer);
  if (t.dtype === 'F16') {
    const h = new Uint16Array(t.data.slice().buffer);
    const out = new Float32Array(h.length);
    for (let i = 0; i < h.length; i++) {
      const v = h[i]!;
      const s = v & 0x8000 ? -1 : 1;
      const e = (v >>> 10) & 0x1f;
      const m = v & 0x3ff;
      out[i] = e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
    }
    return out;
  }
  throw new MobilegradError(`tensor '${name}' is ${t.dtype}; expected F32 or F16`);
}

export function f32Tensor(shape: number[], data: Float32Array): SafeTensor {
  return { dtype: 'F32', shape, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}
