import { readFile, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { pixelKey, readInfoCache, readPixelCache, writeCacheFile, writeInfoCache } from './decode-cache.js';
import { scanImageFolder, type SkippedFile } from './scan-folder.js';
import { decodeImageFile } from './decode-image-file.js';
import { describeImage, type ImageInfo } from './image-info.js';
import { resizeRgb, type ResizeMode } from './resize.js';
import { UsageError } from './usage-error.js';


/** Options of {@link loadImageFolder}. */
export interface LoadOptions {
  /** Side of the square images, in pixels (e.g. 224). */
  imageSize: number;
  /** How non-square images become square (default `crop`; see resize.ts). */
  resize?: ResizeMode;
  /**
   * Where decoded images are cached. Default: `.cache/mobilegrad` in the dataset folder's parent
   * (outside the dataset, so it never looks like a class). `null` turns the cache off.
   */
  cacheDir?: string | null;
  /** Train on fewer than `minImages` images instead of refusing. */
  allowSmall?: boolean;
  /** The fewest images accepted without `allowSmall` (default 200). */
  minImages?: number;
  /** Called after each file with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** A dataset decoded into memory. */
export interface LoadedDataset {
  /** Class names; label i is classes[i]. */
  classes: string[];
  /** `count` images, each `imageSize x imageSize x 3` uint8 (NHWC, RGB). */
  images: Uint8Array;
  /** Label of each image. */
  labels: Int32Array;
  /** Number of images loaded. */
  count: number;
  /** Side of the images. */
  imageSize: number;
  /** Paths of the loaded images, in the order of `images`. */
  paths: string[];
  /** Format, colour mode, size and fingerprints of each loaded image (same order), for the dataset check. */
  infos: ImageInfo[];
  /** Files not used: non-images from the scan and files that could not be decoded, with reasons. */
  skipped: SkippedFile[];
  /** How many images were decoded now, and how many came from the cache. */
  stats: { decoded: number; fromCache: number };
  /** The cache folder used, or null when caching was off or the folder could not be created. */
  cacheDir: string | null;
}

/** The default decode cache folder for a dataset folder: `<parent>/.cache/mobilegrad`. */
export function defaultCacheDir(datasetDir: string): string {
  return join(dirname(resolve(datasetDir)), '.cache', 'mobilegrad');
}

/**
 * Scans `dir` (see {@link scanImageFolder}), decodes every image once, center-crops and resizes it to
 * `imageSize` (see {@link resizeRgb}), and returns all of them in one uint8 buffer.
 *
 * Decoded images are cached on disk, keyed by the SHA-1 of the file's bytes, the image size and the
 * resize policy, so a second run (or a renamed or copied file) is not decoded again; so are the
 * image's facts and fingerprints (`infos`, one small JSON file per file content). Cache files are written under a
 * temporary name and renamed, so an interrupted run never leaves a partial entry; a cache that cannot be
 * written is ignored. Files that fail to decode are listed in `skipped` with the reason.
 *
 * @throws {@link UsageError} from the scan, or when too few images remain after skipping corrupt
 *   files (fewer than `minImages` without `allowSmall`, or a class left with no image).
 */
export async function loadImageFolder(dir: string, options: LoadOptions): Promise<LoadedDataset> {
  const size = options.imageSize;
  const mode = options.resize ?? 'crop';
  if (!(Number.isInteger(size) && size > 0)) throw new UsageError(`Image size must be a positive integer, got ${size}: pass e.g. 224.`);
  const minImages = options.minImages ?? 200;
  const scan = scanImageFolder(dir, { allowSmall: options.allowSmall, minImages });
  const skipped: SkippedFile[] = [...scan.skipped];

  let cacheDir: string | null = options.cacheDir === null ? null : resolve(options.cacheDir ?? defaultCacheDir(dir));
  if (cacheDir !== null) {
    try {
      await mkdir(cacheDir, { recursive: true });
    } catch {
      cacheDir = null;
    }
  }

  const stride = size * size * 3;
  const total = scan.files.length;
  const images = new Uint8Array(total * stride);
  const labels = new Int32Array(total);
  const paths: string[] = [];
  const infos: ImageInfo[] = [];
  const perClass = new Array<number>(scan.classes.length).fill(0);
  let count = 0, decoded = 0, fromCache = 0;

  for (let i = 0; i < total; i++) {
    const { path, label } = scan.files[i];
    const slot = images.subarray(count * stride, (count + 1) * stride);
    let ok = false;
    try {
      const bytes = await readFile(path);
      const sha = createHash('sha1').update(bytes).digest('hex');
      const key = pixelKey(sha, size, mode);
      const cached = cacheDir !== null ? await readPixelCache(join(cacheDir, key), stride) : null;
      let info = cacheDir !== null ? await readInfoCache(cacheDir, sha) : null;
      if (cached && info) {
        slot.set(cached);
        fromCache++;
      } else {
        const img = await decodeImageFile(bytes, path);
        if (cached) {
          slot.set(cached);
          fromCache++;
        } else {
          resizeRgb(img.rgb, img.width, img.height, size, slot, mode);
          decoded++;
          if (cacheDir !== null) await writeCacheFile(join(cacheDir, key), slot);
        }
        if (!info) {
          info = describeImage(img, bytes.length);
          if (cacheDir !== null) await writeInfoCache(cacheDir, sha, info);
        }
      }
      infos.push(info);
      ok = true;
    } catch (e) {
      if (e instanceof UsageError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      const reason = msg.startsWith(`${path}: `) ? msg.slice(path.length + 2) : msg;
      skipped.push({ path, reason });
    }
    if (ok) {
      labels[count] = label;
      paths.push(path);
      perClass[label]++;
      count++;
    }
    options.onProgress?.(i + 1, total);
  }

  const empty = perClass.findIndex((n) => n === 0);
  if (empty >= 0) {
    throw new UsageError(`Class "${scan.classes[empty]}" has no readable images (all failed to decode): replace the corrupt files or remove the folder.`);
  }
  if (count < minImages && !options.allowSmall) {
    throw new UsageError(`Only ${count} of ${total} images could be read (${total - count} corrupt), fewer than the ${minImages} needed: fix or replace them, or use --allow-small to train anyway.`);
  }
  return {
    classes: scan.classes,
    images: count === total ? images : images.subarray(0, count * stride),
    labels: count === total ? labels : labels.slice(0, count),
    count,
    imageSize: size,
    paths,
    infos,
    skipped,
    stats: { decoded, fromCache },
    cacheDir,
  };
}
