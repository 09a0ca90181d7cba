import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { decodeBmp } from './decode-bmp.js';

/** A decoded image: 8-bit RGB, row-major, 3 bytes per pixel, no padding. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
  /** How the file stored its pixels (for the dataset check); absent when unknown. */
  source?: SourceInfo;
}

/** Colour modes as files store them (all are converted to 8-bit RGB). */
export type ColorMode = 'gray' | 'gray+alpha' | 'rgb' | 'rgba' | 'palette' | 'cmyk';

/** The format, colour mode and bits per channel of a decoded file. */
export interface SourceInfo {
  format: ImageFormat;
  mode: ColorMode;
  bitDepth: number;
}

/** Image formats recognised by their first bytes. */
export type ImageFormat = 'png' | 'jpeg' | 'bmp' | 'webp' | 'gif' | 'tiff' | 'avif' | 'heic';

/** Formats this module decodes itself, in pure JavaScript (Node and browsers alike). */
export const PURE_JS_FORMATS: readonly ImageFormat[] = ['png', 'jpeg', 'bmp'];

/** Largest image decoded, in pixels (JPEGs beyond it are refused rather than exhausting memory). */
const MAX_PIXELS = 100e6;

const ascii = (bytes: Uint8Array, at: number, n: number) => String.fromCharCode(...bytes.subarray(at, at + n));

/** Identifies an image format by its signature (not the file name); `null` for anything else. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47 &&
      bytes[4] === 0x0d && bytes[5] === 0x0a && bytes[6] === 0x1a && bytes[7] === 0x0a) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  if (bytes.length >= 6 && (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a')) return 'gif';
  if (bytes.length >= 14 && bytes[0] === 0x42 && bytes[1] === 0x4d) return 'bmp';
  if (bytes.length >= 4 && ((bytes[0] === 0x49 && bytes[1] === 0x49 && bytes[2] === 42 && bytes[3] === 0) ||
      (bytes[0] === 0x4d && bytes[1] === 0x4d && bytes[2] === 0 && bytes[3] === 42))) return 'tiff';
  if (bytes.length >= 12 && ascii(bytes, 4, 4) === 'ftyp') {
    const brand = ascii(bytes, 8, 4);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'heic';
  }
  return null;
}

/**
 * The number of colour components of a JPEG (1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK) from its
 * start-of-frame marker, or 0 when none is found.
 */
export function jpegComponents(bytes: Uint8Array): number {
  let p = 2;
  while (p + 9 < bytes.length) {
    if (bytes[p] !== 0xff) return 0;
    const marker = bytes[p + 1]!;
    if (marker === 0xff) { p++; continue; }
    const len = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    // SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return bytes[p + 9]!;
    if (marker === 0xda) return 0;
    p += 2 + len;
  }
  return 0;
}

/**
 * Decodes a PNG, JPEG or BMP file to 8-bit RGB, in pure JavaScript. The format is found from the
 * magic bytes, not the file name. (In Node, `decodeImageFile` from decode-image-file.ts also reads
 * WebP, GIF, TIFF and AVIF, and converts CMYK JPEGs with their colour profile.)
 *
 * - PNG (pngjs): grayscale, grayscale + alpha, RGB, RGBA, palette (with or without transparency),
 *   1/2/4/8/16-bit. 16-bit samples are scaled to 8 bits. **Transparency is composited over white**,
 *   so a transparent background reads as white rather than as whatever colour the hidden pixels hold.
 * - JPEG (jpeg-js): baseline and progressive, grayscale (copied to R, G and B), YCbCr, CMYK/YCCK.
 *   The EXIF orientation tag is applied, so phone photos come out upright as a viewer shows them.
 *
 * @param pathForErrors names the file in error messages only.
 * @throws Error with a short reason (`"<path>: corrupt PNG (unexpected end of file)"`) for empty, unknown, corrupt or
 *   truncated files; callers skip such files with a warning.
 */
export function decodeImage(bytes: Uint8Array, pathForErrors: string): RgbImage {
  if (bytes.length === 0) throw new Error(`${pathForErrors}: empty file`);
  const format = sniffImageFormat(bytes);
  if (format === 'png') return decodePng(bytes, pathForErrors);
  if (format === 'jpeg') return decodeJpeg(bytes, pathForErrors);
  if (format === 'bmp') {
    try {
      const img = decodeBmp(bytes);
      return { width: img.width, height: img.height, rgb: img.rgb, source: { format: 'bmp', mode: img.bmp.palette ? 'palette' : img.bmp.hasAlpha ? 'rgba' : 'rgb', bitDepth: img.bmp.bitDepth } };
    } catch (e) {
      throw new Error(`${pathForErrors}: ${shortReason(e)}`);
    }
  }
  if (format) throw new Error(`${pathForErrors}: ${format.toUpperCase()} is read only by the Node decoder (decodeImageFile, with the 'sharp' package)`);
  throw new Error(`${pathForErrors}: not a supported image (unrecognised file signature; PNG, JPEG, WebP, GIF, BMP, TIFF and AVIF are read)`);
}

/** Colour mode of a PNG colour type. */
const PNG_MODES: Record<number, ColorMode> = { 0: 'gray', 2: 'rgb', 3: 'palette', 4: 'gray+alpha', 6: 'rgba' };

function shortReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 160);
}

function decodePng(bytes: Uint8Array, path: string): RgbImage {
  let png: { width: number; height: number; data: Uint8Array; colorType?: number; depth?: number };
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    png = PNG.sync.read(buf);
  } catch (e) {
    throw new Error(`${path}: corrupt PNG (${shortReason(e)})`);
  }
  const { width, height, data } = png;
  if (!(width > 0 && height > 0) || data.length < width * height * 4) {
    throw new Error(`${path}: corrupt PNG (no pixel data)`);
  }
  const n = width * height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0, j = 0, k = 0; i < n; i++, j += 4, k += 3) {
    const a = data[j + 3];
    if (a === 255) {
      rgb[k] = data[j]; rgb[k + 1] = data[j + 1]; rgb[k + 2] = data[j + 2];
    } else {
      // c * a/255 + 255 * (1 - a/255), rounded.
      const w = 255 * (255 - a);
      rgb[k] = ((data[j] * a + w + 127) / 255) | 0;
      rgb[k + 1] = ((data[j + 1] * a + w + 127) / 255) | 0;
      rgb[k + 2] = ((data[j + 2] * a + w + 127) / 255) | 0;
    }
  }
  return { width, height, rgb, source: { format: 'png', mode: PNG_MODES[png.colorType ?? 6] ?? 'rgba', bitDepth: png.depth ?? 8 } };
}

/** The JPEG must end with an EOI marker (FFD9) somewhere after its last scan; camera files may append data after it. */
function hasEndOfImage(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 2; i >= 2; i--) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  }
  return false;
}

function decodeJpeg(bytes: Uint8Array, path: string): RgbImage {
  if (!hasEndOfImage(bytes)) throw new Error(`${path}: truncated JPEG (no end-of-image marker)`);
  let img: { width: number; height: number; data: Uint8Array; exifBuffer?: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: true,
      maxResolutionInMP: MAX_PIXELS / 1e6,
      maxMemoryUsageInMB: 2048,
    }) as typeof img;
  } catch (e) {
    throw new Error(`${path}: corrupt JPEG (${shortReason(e)})`);
  }
  if (!(img.width > 0 && img.height > 0) || img.data.length < img.width * img.height * 3) {
    throw new Error(`${path}: corrupt JPEG (no pixel data)`);
  }
  const orientation = img.exifBuffer ? exifOrientation(img.exifBuffer) : 1;
  const components = jpegComponents(bytes);
  const source: SourceInfo = { format: 'jpeg', mode: components === 1 ? 'gray' : components === 4 ? 'cmyk' : 'rgb', bitDepth: 8 };
  return { ...applyOrientation({ width: img.width, height: img.height, rgb: img.data }, orientation), source };
}

/**
 * Reads the EXIF orientation (tag 0x0112 of IFD0) from a TIFF block, optionally preceded by one zero
 * byte (jpeg-js strips "Exif\0" but leaves the second padding byte). Returns 1 when absent or unreadable.
 */
export function exifOrientation(exif: Uint8Array): number {
  let o = 0;
  if (exif.length > 0 && exif[0] === 0) o = 1;
  if (exif.length < o + 8) return 1;
  const little = exif[o] === 0x49 && exif[o + 1] === 0x49;
  const big = exif[o] === 0x4d && exif[o + 1] === 0x4d;
  if (!little && !big) return 1;
  const u16 = (p: number) => (little ? exif[p] | (exif[p + 1] << 8) : (exif[p] << 8) | exif[p + 1]);
  const u32 = (p: number) => (little
    ? (exif[p] | (exif[p + 1] << 8) | (exif[p + 2] << 16)) + exif[p + 3] * 0x1000000
    : ((exif[p + 1] << 16) | (exif[p + 2] << 8) | exif[p + 3]) + exif[p] * 0x1000000);
  if (u16(o + 2) !== 42) return 1;
  const ifd = o + u32(o + 4);
  if (ifd + 2 > exif.length) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > exif.length) return 1;
    if (u16(e) === 0x0112) {
      const v = u16(e + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

/** Applies an EXIF orientation (1-8) so that the returned pixels are upright. */
export function applyOrientation(img: RgbImage, orientation: number): RgbImage {
  if (orientation <= 1 || orientation > 8) return img;
  const W = img.width, H = img.height, src = img.rgb;
  const swap = orientation >= 5;
  const w = swap ? H : W, h = swap ? W : H;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sx: number, sy: number;
      switch (orientation) {
        case 2: sx = W - 1 - x; sy = y; break;           // mirrored
        case 3: sx = W - 1 - x; sy = H - 1 - y; break;   // rotated 180
        case 4: sx = x; sy = H - 1 - y; break;           // flipped vertically
        case 5: sx = y; sy = x; break;                   // transposed
        case 6: sx = y; sy = H - 1 - x; break;           // needs 90 degrees clockwise
        case 7: sx = W - 1 - y; sy = H - 1 - x; break;   // transversed
        default: sx = W - 1 - y; sy = x; break;          // 8: needs 90 degrees counter-clockwise
      }
      const d = (y * w + x) * 3, s = (sy * W + sx) * 3;
      out[d] = src[s]; out[d + 1] = src[s + 1]; out[d + 2] = src[s + 2];
    }
  }
  return { width: w, height: h, rgb: out };
}
