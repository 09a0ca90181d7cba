/**
 * Reads every image of a class-folder dataset for the dataset check, without resizing for training:
 * format, colour mode, size and fingerprints of each file (cached on disk like decoded pixels),
 * and the files that would not decode, with the reason.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readInfoCache, writeInfoCache } from './decode-cache.js';
import { decodeImageFile } from './decode-image-file.js';
import { describeImage, type ImageInfo } from './image-info.js';
import { defaultCacheDir } from './dataset.js';
import { scanImageFolder, type SkippedFile } from './scan-folder.js';

/** One readable image of an inspected folder. */
export interface InspectedImage {
  path: string;
  label: number;
  info: ImageInfo;
}

/** What {@link inspectImageFolder} found. */
export interface InspectedFolder {
  classes: string[];
  /** Readable images in scan order (grouped by class, sorted by path): the order the trainer loads them in. */
  images: InspectedImage[];
  /** Files that are not images, and images that would not decode, with the reason. */
  skipped: SkippedFile[];
  /** Images among `skipped` that failed to decode (the rest are not images at all). */
  undecodable: SkippedFile[];
}

/** Options of {@link inspectImageFolder}. */
export interface InspectOptions {
  /** Cache folder (default as for training); null turns the cache off. */
  cacheDir?: string | null;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Inspects every image under `dir` (laid out as for training, see scanImageFolder; any number of
 * images is accepted). Structural problems (no such folder, fewer than two classes, an empty class)
 * are refused with a UsageError as training would.
 */
export async function inspectImageFolder(dir: string, options: InspectOptions = {}): Promise<InspectedFolder> {
  const scan = scanImageFolder(dir, { allowSmall: true });
  let cacheDir: string | null = options.cacheDir === null ? null : resolve(options.cacheDir ?? defaultCacheDir(dir));
  if (cacheDir !== null) {
    try {
      await mkdir(cacheDir, { recursive: true });
    } catch {
      cacheDir = null;
    }
  }
  const images: InspectedImage[] = [];
  const undecodable: SkippedFile[] = [];
  for (let i = 0; i < scan.files.length; i++) {
    const { path, label } = scan.files[i]!;
    try {
      const bytes = await readFile(path);
      const sha = createHash('sha1').update(bytes).digest('hex');
      let info = cacheDir !== null ? await readInfoCache(cacheDir, sha) : null;
      if (!info) {
        info = describeImage(await decodeImageFile(bytes, path), bytes.length);
        if (cacheDir !== null) await writeInfoCache(cacheDir, sha, info);
      }
      images.push({ path, label, info });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      undecodable.push({ path, reason: msg.startsWith(`${path}: `) ? msg.slice(path.length + 2) : msg });
    }
    options.onProgress?.(i + 1, scan.files.length);
  }
  return { classes: scan.classes, images, skipped: [...scan.skipped, ...undecodable], undecodable };
}
