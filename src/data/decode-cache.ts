/**
 * The on-disk decode cache: resized pixels (one raw file per file content, size and resize policy)
 * and image facts (one JSON file per file content). Entries are written under a temporary name and
 * renamed, so an interrupted run never leaves a partial entry; a cache that cannot be read or
 * written is simply not used.
 */
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseImageInfo, type ImageInfo } from './image-info.js';
import type { ResizeMode } from './resize.js';

/**
 * Version of the cached pixels; bump it when decoding or resizing changes so old entries are not reused.
 * v2: CMYK JPEGs converted with their colour profile (sharp); WebP, GIF, BMP, TIFF, AVIF read.
 */
const PIXEL_FORMAT = 'v2';
/** Version of the cached image facts and fingerprints (image-info.ts, image-hash.ts). */
const INFO_FORMAT = 'info-v1';

/** File name of the pixels of the file with SHA-1 `sha` at `size` under `mode`. */
export function pixelKey(sha: string, size: number, mode: ResizeMode): string {
  return `${PIXEL_FORMAT}-${size}${mode === 'crop' ? '' : `-${mode}`}-${sha}.rgb`;
}

function infoKey(sha: string): string {
  return `${INFO_FORMAT}-${sha}.json`;
}

/** Cached pixels of exactly `length` bytes, or null. */
export async function readPixelCache(file: string, length: number): Promise<Uint8Array | null> {
  try {
    const b = await readFile(file);
    return b.length === length ? b : null;
  } catch {
    return null;
  }
}

/** Cached facts of the file with SHA-1 `sha`, or null. */
export async function readInfoCache(cacheDir: string, sha: string): Promise<ImageInfo | null> {
  try {
    return parseImageInfo(await readFile(join(cacheDir, infoKey(sha)), 'utf8'));
  } catch {
    return null;
  }
}

/** Stores the facts of the file with SHA-1 `sha`. */
export function writeInfoCache(cacheDir: string, sha: string, info: ImageInfo): Promise<void> {
  return writeCacheFile(join(cacheDir, infoKey(sha)), Buffer.from(JSON.stringify(info)));
}

let tmpCounter = 0;

/** Writes a cache entry under a temporary name, then renames it into place; failures are ignored. */
export async function writeCacheFile(file: string, data: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch {
    await unlink(tmp).catch(() => undefined);
  }
}
