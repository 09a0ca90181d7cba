import { readdirSync, statSync, type Stats } from 'node:fs';
import { join, extname, resolve } from 'node:path';
import { UsageError } from './usage-error.js';

/** File extensions read as images (compared in lower case). The decoder itself checks the magic bytes. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.jpe', '.jfif', '.webp', '.gif', '.bmp', '.dib', '.tif', '.tiff', '.avif'];

/** One image file and the index of its class in `classes`. */
export interface ImageFile {
  path: string;
  label: number;
}

/** A file that was not used, and why. */
export interface SkippedFile {
  path: string;
  reason: string;
}

/** What {@link scanImageFolder} found. */
export interface ScanResult {
  /** Class names: the subfolder names, sorted by code point; label i is classes[i]. */
  classes: string[];
  /** Image files, grouped by class and sorted by path within a class. */
  files: ImageFile[];
  /** Files that are not images (by extension) or lie outside any class subfolder. */
  skipped: SkippedFile[];
}

/** Options of {@link scanImageFolder}. */
export interface ScanOptions {
  /** Train on fewer than `minImages` images instead of refusing. */
  allowSmall?: boolean;
  /** The fewest images accepted without `allowSmall` (default 200). */
  minImages?: number;
}

const EXT_LIST = IMAGE_EXTENSIONS.join(', ');
const FORMAT_LIST = 'PNG, JPEG, WebP, GIF, BMP, TIFF or AVIF files';

function statOrUsage(path: string, what: string): Stats {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${what} not found: ${path}: check the path (it should be a folder with one subfolder of images per class).`);
    throw new UsageError(`Cannot read ${what} ${path} (${code ?? (e as Error).message}): check that it exists and that you may read it.`);
  }
}

function listOrUsage(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`Cannot read folder ${path} (${code ?? (e as Error).message}): check its permissions.`);
  }
}

/**
 * Lists a dataset laid out as `dir/<class>/<image>` (the torchvision ImageFolder layout).
 *
 * - Each visible subfolder of `dir` is a class; labels follow the sorted subfolder names.
 * - Subfolders inside a class folder are searched too; their images belong to that class.
 * - Hidden entries (names starting with `.`) are ignored; other files without an image
 *   extension ({@link IMAGE_EXTENSIONS}, any case) and files directly in `dir` are listed in `skipped`.
 * - The file contents are not read here: corrupt images are found when they are decoded.
 *
 * @throws {@link UsageError} when the folder is missing, unreadable or not a folder, has no class
 *   subfolders or only one, a class folder has no images, or there are fewer than `minImages`
 *   images in all and `allowSmall` is not set.
 */
export function scanImageFolder(dir: string, options: ScanOptions = {}): ScanResult {
  const minImages = options.minImages ?? 200;
  const root = resolve(dir);
  if (!statOrUsage(root, 'Dataset folder').isDirectory()) {
    throw new UsageError(`${root} is a file, not a folder: pass the folder that holds one subfolder of images per class.`);
  }
  const skipped: SkippedFile[] = [];
  const classes: string[] = [];
  for (const name of listOrUsage(root).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(root, name);
    let st: Stats;
    try {
      st = statSync(p);
    } catch (e) {
      skipped.push({ path: p, reason: `cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
      continue;
    }
    if (st.isDirectory()) classes.push(name);
    else skipped.push({ path: p, reason: 'not inside a class subfolder' });
  }
  if (classes.length === 0) {
    throw new UsageError(`No class subfolders in ${root}: put each class's images in a subfolder named after the class (e.g. ${join(root, 'cat')}, ${join(root, 'dog')}).`);
  }
  if (classes.length === 1) {
    throw new UsageError(`Only one class ("${classes[0]}") in ${root}: a classifier needs at least two class subfolders; add another.`);
  }

  const files: ImageFile[] = [];
  classes.forEach((cls, label) => {
    const found: string[] = [];
    walk(join(root, cls), found, skipped, new Set());
    if (found.length === 0) {
      throw new UsageError(`Class folder "${cls}" (${join(root, cls)}) has no images (${FORMAT_LIST}): add images to it or remove it.`);
    }
    found.sort();
    for (const path of found) files.push({ path, label });
  });

  if (files.length < minImages && !options.allowSmall) {
    throw new UsageError(`Only ${files.length} images in ${root}, fewer than the ${minImages} needed for a useful model: add more images, or use --allow-small to train anyway.`);
  }
  return { classes, files, skipped };
}

function walk(dir: string, found: string[], skipped: SkippedFile[], seen: Set<string>): void {
  // Guard against symlink loops: a folder is visited once per (device, inode).
  const st = statSync(dir);
  const key = `${st.dev}:${st.ino}`;
  if (seen.has(key)) return;
  seen.add(key);
  for (const name of listOrUsage(dir)) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    let s: Stats;
    try {
      s = statSync(p);
    } catch (e) {
      skipped.push({ path: p, reason: `cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
      continue;
    }
    if (s.isDirectory()) {
      walk(p, found, skipped, seen);
    } else if (!s.isFile()) {
      skipped.push({ path: p, reason: 'not a regular file' });
    } else if (IMAGE_EXTENSIONS.includes(extname(name).toLowerCase())) {
      found.push(p);
    } else {
      skipped.push({ path: p, reason: `not an image (${extname(name) || 'no extension'}); only ${EXT_LIST} are read` });
    }
  }
}
