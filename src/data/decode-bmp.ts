/**
 * A small BMP decoder (pure JavaScript: libvips, and so sharp, cannot read BMP).
 *
 * Reads Windows BMP files as paint programs, scanners and Windows itself write them:
 * - headers: OS/2 core (12 bytes), BITMAPINFOHEADER (40) and its V2-V5 extensions (52-124);
 * - 1-, 2-, 4- and 8-bit palettes, uncompressed or RLE4 / RLE8;
 * - 16- and 32-bit with the default masks (5-5-5 and BGRX) or explicit bit fields (BI_BITFIELDS,
 *   BI_ALPHABITFIELDS), 24-bit BGR;
 * - bottom-up (the usual) and top-down rows (negative height).
 * Alpha is composited over white, as for PNG. A 32-bit file whose alpha channel is zero everywhere
 * is read as opaque: many writers leave that byte unused.
 */
import type { RgbImage } from './decode-image.js';

/** Largest image decoded, in pixels. */
const MAX_PIXELS = 100e6;

/** How the pixels were stored, for the dataset check. */
export interface BmpInfo {
  bitDepth: number;
  hasAlpha: boolean;
  palette: boolean;
}

class BmpError extends Error {}

/** True when the bytes start with the BMP signature "BM". */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

/**
 * Decodes a BMP file to 8-bit RGB.
 * @throws Error with a short reason (unsupported variant, truncated or corrupt file).
 */
export function decodeBmp(bytes: Uint8Array): RgbImage & { bmp: BmpInfo } {
  try {
    return decode(bytes);
  } catch (e) {
    if (e instanceof BmpError) throw new Error(e.message);
    if (e instanceof RangeError) throw new Error('truncated BMP (pixel data ends early)');
    throw e;
  }
}

function decode(bytes: Uint8Array): RgbImage & { bmp: BmpInfo } {
  if (!isBmp(bytes) || bytes.length < 26) throw new BmpError('corrupt BMP (header too short)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = dv.getUint32(10, true);
  const headerSize = dv.getUint32(14, true);
  let width: number, height: number, bpp: number, compression = 0, paletteEntrySize = 4, colorsUsed = 0;
  if (headerSize === 12) {
    width = dv.getUint16(18, true);
    height = dv.getInt16(20, true);
    bpp = dv.getUint16(24, true);
    paletteEntrySize = 3;
  } else if (headerSize >= 40 && headerSize <= 124) {
    width = dv.getInt32(18, true);
    height = dv.getInt32(22, true);
    bpp = dv.getUint16(28, true);
    compression = dv.getUint32(30, true);
    colorsUsed = dv.getUint32(46, true);
  } else {
    throw new BmpError(`unsupported BMP header (${headerSize} bytes)`);
  }
  const topDown = height < 0;
  height = Math.abs(height);
  if (!(width > 0 && height > 0)) throw new BmpError(`corrupt BMP (size ${width}x${height})`);
  if (width * height > MAX_PIXELS) throw new BmpError(`BMP too large (${width}x${height})`);

  // Channel masks: explicit after a 40-byte header with BI_BITFIELDS, inside V2+ headers, or the defaults.
  let masks: [number, number, number, number] | null = null;
  if (compression === 3 || compression === 6) {
    const at = 14 + 40;
    const hasAlphaMask = compression === 6 || headerSize >= 56;
    masks = [dv.getUint32(at, true), dv.getUint32(at + 4, true), dv.getUint32(at + 8, true), hasAlphaMask ? dv.getUint32(at + 12, true) : 0];
  } else if (compression !== 0 && compression !== 1 && compression !== 2) {
    throw new BmpError(`unsupported BMP compression (${compression === 4 ? 'embedded JPEG' : compression === 5 ? 'embedded PNG' : `type ${compression}`})`);
  }
  if (bpp === 16 && !masks) masks = [0x7c00, 0x03e0, 0x001f, 0];
  if (bpp === 32 && !masks) masks = [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000];

  const rgba = new Uint8Array(width * height * 4);
  const rowOf = (r: number) => (topDown ? r : height - 1 - r); // file row -> image row
  let palette: Uint8Array | null = null;
  if (bpp <= 8) {
    const n = colorsUsed || 1 << bpp;
    palette = new Uint8Array(256 * 3);
    const at = 14 + headerSize + (compression === 3 && headerSize === 40 ? 12 : compression === 6 && headerSize === 40 ? 16 : 0);
    for (let i = 0; i < Math.min(n, 256); i++) {
      const p = at + i * paletteEntrySize;
      if (p + 2 >= bytes.length) break;
      palette[i * 3] = bytes[p + 2]!;
      palette[i * 3 + 1] = bytes[p + 1]!;
      palette[i * 3 + 2] = bytes[p]!;
    }
  }
  if (dataOffset >= bytes.length) throw new BmpError('truncated BMP (no pixel data)');

  if (compression === 1 || compression === 2) {
    if (!palette || (compression === 1 && bpp !== 8) || (compression === 2 && bpp !== 4)) throw new BmpError('corrupt BMP (RLE with a wrong bit depth)');
    decodeRle(bytes, dataOffset, width, height, compression === 2, palette, rgba, rowOf);
    return finish(rgba, width, height, { bitDepth: bpp, hasAlpha: false, palette: true }, false);
  }

  const stride = Math.floor((width * bpp + 31) / 32) * 4;
  if (dataOffset + stride * (height - 1) + Math.ceil((width * bpp) / 8) > bytes.length) throw new BmpError('truncated BMP (pixel data ends early)');
  let alphaSeen = false;
  if (bpp <= 8) {
    const per = 8 / bpp;
    const mask = (1 << bpp) - 1;
    for (let r = 0; r < height; r++) {
      const src = dataOffset + r * stride;
      const dst = rowOf(r) * width * 4;
      for (let x = 0; x < width; x++) {
        const byte = bytes[src + Math.floor(x / per)]!;
        const shift = 8 - bpp * ((x % per) + 1);
        const idx = (byte >> shift) & mask;
        rgba[dst + x * 4] = palette![idx * 3]!;
        rgba[dst + x * 4 + 1] = palette![idx * 3 + 1]!;
        rgba[dst + x * 4 + 2] = palette![idx * 3 + 2]!;
        rgba[dst + x * 4 + 3] = 255;
      }
    }
    return finish(rgba, width, height, { bitDepth: bpp, hasAlpha: false, palette: true }, false);
  }
  if (bpp === 24) {
    for (let r = 0; r < height; r++) {
      const src = dataOffset + r * stride;
      const dst = rowOf(r) * width * 4;
      for (let x = 0; x < width; x++) {
        rgba[dst + x * 4] = bytes[src + x * 3 + 2]!;
        rgba[dst + x * 4 + 1] = bytes[src + x * 3 + 1]!;
        rgba[dst + x * 4 + 2] = bytes[src + x * 3]!;
        rgba[dst + x * 4 + 3] = 255;
      }
    }
    return finish(rgba, width, height, { bitDepth: 24, hasAlpha: false, palette: false }, false);
  }
  if (bpp !== 16 && bpp !== 32) throw new BmpError(`unsupported BMP bit depth (${bpp})`);
  const fields = masks!.map(maskField);
  for (let r = 0; r < height; r++) {
    const src = dataOffset + r * stride;
    const dst = rowOf(r) * width * 4;
    for (let x = 0; x < width; x++) {
      const v = bpp === 16 ? dv.getUint16(src + x * 2, true) : dv.getUint32(src + x * 4, true);
      for (let c = 0; c < 3; c++) rgba[dst + x * 4 + c] = fields[c]!(v);
      const a = fields[3]!(v);
      rgba[dst + x * 4 + 3] = a;
      if (a !== 0) alphaSeen = true;
    }
  }
  const hasAlpha = masks![3] !== 0 && alphaSeen;
  return finish(rgba, width, height, { bitDepth: bpp, hasAlpha, palette: false }, hasAlpha);
}

/** A function extracting a channel under `mask` and scaling it to 0-255 (0 when the mask is empty). */
function maskField(mask: number): (v: number) => number {
  if (mask === 0) return () => 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (((mask >>> (shift + bits)) & 1) === 1 && shift + bits < 32) bits++;
  const max = 2 ** bits - 1;
  return (v) => Math.round((((v >>> 0) & (mask >>> 0)) >>> shift) * 255 / max);
}

/** RLE8 / RLE4: runs, literal groups padded to 16 bits, end of line, end of bitmap, delta moves. */
function decodeRle(bytes: Uint8Array, at: number, width: number, height: number, four: boolean, palette: Uint8Array, rgba: Uint8Array, rowOf: (r: number) => number): void {
  // Pixels never written stay as palette entry 0, as Windows shows them.
  for (let i = 0; i < width * height; i++) {
    rgba[i * 4] = palette[0]!; rgba[i * 4 + 1] = palette[1]!; rgba[i * 4 + 2] = palette[2]!; rgba[i * 4 + 3] = 255;
  }
  let x = 0, r = 0, p = at;
  const put = (idx: number) => {
    if (x < width && r < height) {
      const d = (rowOf(r) * width + x) * 4;
      rgba[d] = palette[idx * 3]!; rgba[d + 1] = palette[idx * 3 + 1]!; rgba[d + 2] = palette[idx * 3 + 2]!;
    }
    x++;
  };
  while (p + 1 < bytes.length && r < height) {
    const count = bytes[p]!, value = bytes[p + 1]!;
    p += 2;
    if (count > 0) {
      for (let i = 0; i < count; i++) put(four ? (i % 2 === 0 ? value >> 4 : value & 15) : value);
    } else if (value === 0) {
      x = 0; r++;
    } else if (value === 1) {
      return;
    } else if (value === 2) {
      if (p + 1 >= bytes.length) break;
      x += bytes[p]!; r += bytes[p + 1]!;
      p += 2;
    } else {
      const n = value;
      const len = four ? Math.ceil(n / 2) : n;
      if (p + len > bytes.length) throw new BmpError('truncated BMP (RLE data ends early)');
      for (let i = 0; i < n; i++) put(four ? (i % 2 === 0 ? bytes[p + (i >> 1)]! >> 4 : bytes[p + (i >> 1)]! & 15) : bytes[p + i]!);
      p += len + (len % 2);
    }
  }
  if (r < height - 1) throw new BmpError('truncated BMP (RLE data ends early)');
}

function finish(rgba: Uint8Array, width: number, height: number, bmp: BmpInfo, alpha: boolean): RgbImage & { bmp: BmpInfo } {
  const n = width * height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = alpha ? rgba[i * 4 + 3]! : 255;
    for (let c = 0; c < 3; c++) {
      const v = rgba[i * 4 + c]!;
      rgb[i * 3 + c] = a === 255 ? v : ((v * a + 255 * (255 - a) + 127) / 255) | 0;
    }
  }
  return { width, height, rgb, bmp };
}
