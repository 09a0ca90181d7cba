/**
 * What the dataset check needs to know about one image file: how it is stored (format, colour
 * mode, bit depth, size) and its fingerprints (pixel hash, perceptual hash, thumbnail).
 */
import type { ColorMode, ImageFormat, RgbImage } from './decode-image.js';
import { hashImage, type ImageHashes } from './image-hash.js';

/** Facts about one decoded image file. */
export interface ImageInfo extends ImageHashes {
  format: ImageFormat | 'unknown';
  mode: ColorMode | 'unknown';
  bitDepth: number;
  /** Size as stored, after EXIF orientation. */
  width: number;
  height: number;
  /** File size in bytes. */
  fileBytes: number;
}

/** The info of a decoded image. */
export function describeImage(img: RgbImage, fileBytes: number): ImageInfo {
  return {
    format: img.source?.format ?? 'unknown',
    mode: img.source?.mode ?? 'unknown',
    bitDepth: img.source?.bitDepth ?? 8,
    width: img.width,
    height: img.height,
    fileBytes,
    ...hashImage(img.rgb, img.width, img.height),
  };
}

/** Parses a cached info JSON, or null when it is not a complete record. */
export function parseImageInfo(text: string): ImageInfo | null {
  try {
    const v = JSON.parse(text) as ImageInfo;
    if (typeof v.phash === 'string' && v.phash.length === 16 && typeof v.pixelHash === 'string' && typeof v.thumb === 'string' && v.width > 0 && v.height > 0) return v;
  } catch {
    /* a damaged cache entry is recomputed */
  }
  return null;
}
