/**
 * Browser image decoding: createImageBitmap decodes (and applies EXIF orientation), a canvas gives
 * the pixels, and the library's own resizeRgb crops the centre square and resizes it exactly as
 * the CLI does, so a PNG becomes the same 8-bit pixels in the page and in Node.
 */
import { centerSquare, resizeRgb } from '../../src/index.js';

/** A PNG or JPEG by its first bytes (the CLI's decoder reads only these two). */
async function sniff(file: Blob): Promise<'png' | 'jpeg' | null> {
  const b = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  return null;
}

/**
 * Decodes `file`, centre-crops it to a square and resizes it to `size` x `size` RGB into `out`.
 * Transparent pixels are composited over white, as the CLI does.
 * @throws Error with a short reason for empty, unknown or corrupt files.
 */
export async function decodeToRgb(file: Blob, size: number, out: Uint8Array): Promise<void> {
  if (file.size === 0) throw new Error('empty file');
  if (!(await sniff(file))) throw new Error('not a PNG or JPEG (unrecognised file signature)');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch {
    throw new Error('corrupt or truncated image (the browser could not decode it)');
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
