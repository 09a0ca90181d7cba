/**
 * Image decoding in Node: the pure-JavaScript decoders (PNG, JPEG, BMP: decode-image.ts, shared
 * with browsers) plus `sharp` (libvips) for the formats they do not read: WebP, GIF (first frame),
 * TIFF, AVIF/HEIF, and CMYK JPEGs (converted with their embedded ICC profile, or libvips' default
 * CMYK profile when there is none). sharp is loaded on first use, so PNG/JPEG/BMP folders never
 * need it; see docs/dependencies.md for why it is there.
 */
import { decodeImage, jpegComponents, sniffImageFormat, type ColorMode, type ImageFormat, type RgbImage } from './decode-image.js';

/** Largest image decoded, in pixels (the same limit as the pure decoders). */
const MAX_PIXELS = 100e6;

type Sharp = (typeof import('sharp'))['default'];
let sharpModule: Promise<Sharp | null> | null = null;

function loadSharp(): Promise<Sharp | null> {
  sharpModule ??= import('sharp').then((m) => m.default, () => null);
  return sharpModule;
}

/** True when the file needs sharp rather than the pure-JavaScript decoders. */
export function needsSharp(bytes: Uint8Array): boolean {
  const f = sniffImageFormat(bytes);
  if (f === null || f === 'png' || f === 'bmp') return false;
  return f !== 'jpeg' || jpegComponents(bytes) === 4;
}

/**
 * Decodes any supported image file to upright 8-bit RGB, transparency composited over white.
 * PNG, BMP and 1- or 3-component JPEG go through the pure-JavaScript decoders; WebP, GIF (its
 * first frame), TIFF, AVIF/HEIF and CMYK JPEG through sharp, with the EXIF orientation applied.
 *
 * @param pathForErrors names the file in error messages only.
 * @throws Error `"<path>: <reason>"` for files that cannot be decoded (callers skip them).
 */
export async function decodeImageFile(bytes: Uint8Array, pathForErrors: string): Promise<RgbImage> {
  if (!needsSharp(bytes)) return decodeImage(bytes, pathForErrors);
  const format = sniffImageFormat(bytes)!;
  const sharp = await loadSharp();
  if (!sharp) throw new Error(`${pathForErrors}: reading ${format.toUpperCase()} needs the 'sharp' package (npm install sharp)`);
  try {
    const input = () => sharp(bytes, { pages: 1, page: 0, limitInputPixels: MAX_PIXELS });
    const meta = await input().metadata();
    let pipeline = input().rotate();
    if (meta.hasAlpha) pipeline = pipeline.flatten({ background: { r: 255, g: 255, b: 255 } });
    const { data, info } = await pipeline.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels after conversion`);
    const mode: ColorMode = meta.space === 'cmyk' ? 'cmyk'
      : meta.space === 'b-w' || meta.space === 'grey16' ? (meta.hasAlpha ? 'gray+alpha' : 'gray')
      : meta.isPalette ? 'palette' : meta.hasAlpha ? 'rgba' : 'rgb';
    const bitDepth = meta.bitsPerSample ?? (meta.depth === 'ushort' ? 16 : 8);
    return {
      width: info.width,
      height: info.height,
      rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      source: { format: format as ImageFormat, mode, bitDepth },
    };
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 160);
    throw new Error(`${pathForErrors}: corrupt ${format.toUpperCase()} (${msg})`);
  }
}
