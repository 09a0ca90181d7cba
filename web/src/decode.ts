/**
 * Browser image decoding: createImageBitmap decodes (and applies EXIF orientation), a canvas gives
 * the pixels, and the library's own resizeRgb crops the centre square and resizes it exactly as
 * the CLI does, so a PNG becomes the same 8-bit pixels in the page and in Node.
 */
import { centerSquare, resizeRgb } from '../../src/index.js';

type Format = 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp' | 'tiff' | 'avif' | 'heic';

/** The image format by its first bytes (the signatures the CLI's decoder recognises). */
export function sniffFormat(b: Uint8Array): Format | null {
  const ascii = (at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 3) === 'PNG') return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 4) === 'WEBP') return 'webp';
  if (b.length >= 6 && (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 14 && ascii(0, 2) === 'BM') return 'bmp';
  if (b.length >= 4 && (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*')) return 'tiff';
  if (b.length >= 12 && ascii(4, 4) === 'ftyp') {
    const brand = ascii(8, 4);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'heic';
  }
  return null;
}

/**
 * Decodes `file` (whatever the browser decodes: PNG, JPEG, WebP, GIF's first frame, BMP, AVIF),
 * centre-crops it to a square and resizes it to `size` x `size` RGB into `out` (the CLI's default
 * `--resize crop`).
 * Transparent pixels are composited over white, as the CLI does.
 * @throws Error with a short reason for empty, unknown or corrupt files.
 */
export async function decodeToRgb(file: Blob, size: number, out: Uint8Array): Promise<void> {
  if (file.size === 0) throw new Error('empty file');
  const format = sniffFormat(new Uint8Array(await file.slice(0, 16).arrayBuffer()));
  if (!format) throw new Error('not an image (unrecognised file signature)');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch {
    // Most browsers decode neither TIFF nor HEIC; the CLI (libvips) does.
    if (format === 'tiff' || format === 'heic') throw new Error(`${format.toUpperCase()} is not decoded by this browser: convert it to PNG or JPEG, or train with the CLI`);
    throw new Error(`corrupt or truncated ${format.toUpperCase()} (the browser could not decode it)`);
  }
  try {
    const box = centerSquare(bitmap.width, bitmap.height);
    const canvas = new OffscreenCanvas(box.side, box.side);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2D canvas in this browser');
    ctx.drawImage(bitmap, box.x, box.y, box.side, box.side, 0, 0, box.side, box.side);
    const rgba = ctx.getImageData(0, 0, box.side, box.side).data;
    resizeRgb(rgbaToRgbOnWhite(rgba), box.side, box.side, size, out);
  } finally {
    bitmap.close();
  }
}

/** RGBA to RGB, transparency composited over white (c * a/255 + 255 * (1 - a/255), rounded). */
export function rgbaToRgbOnWhite(rgba: Uint8ClampedArray | Uint8Array): Uint8Array {
  const n = rgba.length >> 2;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0, j = 0, k = 0; i < n; i++, j += 4, k += 3) {
    const a = rgba[j + 3]!;
    if (a === 255) {
      rgb[k] = rgba[j]!;
      rgb[k + 1] = rgba[j + 1]!;
      rgb[k + 2] = rgba[j + 2]!;
    } else {
      const w = 255 * (255 - a);
      rgb[k] = ((rgba[j]! * a + w + 127) / 255) | 0;
      rgb[k + 1] = ((rgba[j + 1]! * a + w + 127) / 255) | 0;
      rgb[k + 2] = ((rgba[j + 2]! * a + w + 127) / 255) | 0;
    }
  }
  return rgb;
}
