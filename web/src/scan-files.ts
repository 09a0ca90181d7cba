/**
 * A chosen folder as a dataset: the rules of the CLI's folder scan (src/data/scan-folder.ts),
 * applied to the relative paths a browser gives (`<input webkitdirectory>` or a dropped folder)
 * instead of the file system. Pure: no DOM, so it is unit-tested in Node.
 */

/**
 * File extensions read as images: the CLI's list (src/data/scan-folder.ts, which this browser code
 * cannot import: it reads the file system), so a folder means the same dataset in both;
 * test/web-scan.test.ts fails if the two lists drift apart.
 */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.jpe', '.jfif', '.webp', '.gif', '.bmp', '.dib', '.tif', '.tiff', '.avif'] as const;

/** The CLI's minimum dataset size (below it: refused unless "allow small" is ticked). */
export const MIN_IMAGES = 200;

export interface PathEntry<F> {
  /** Path relative to the parent of the chosen folder: `photos/cat/1.jpg`. */
  path: string;
  file: F;
}

export interface ScanOutcome<F> {
  /** The chosen folder's name. */
  root: string;
  /** Class names (sorted subfolder names); label i is classes[i]. */
  classes: string[];
  /** Image files, grouped by class and sorted by path within a class. */
  files: { path: string; file: F; label: number }[];
  perClass: number[];
  skipped: { path: string; reason: string }[];
  /** Problems that stop training, each naming what to do. Empty when the folder can be trained on. */
  refusals: string[];
  /** Things worth knowing that do not stop training. */
  warnings: string[];
}

export interface ScanRules {
  /** Train on fewer than MIN_IMAGES images instead of refusing. */
  allowSmall: boolean;
  /** Folders seen (drag-and-drop lists empty ones; a file input cannot), relative like paths. */
  folders?: string[];
}

const EXT_LIST = IMAGE_EXTENSIONS.join(', ');

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot).toLowerCase() : '';
}

/**
 * Groups files by class subfolder, as `mobilegrad train --data` does: each visible subfolder of
 * the chosen folder is a class, images in deeper subfolders belong to that class, hidden entries
 * are ignored, other files are listed as skipped with the reason.
 */
export function scanPaths<F>(entries: PathEntry<F>[], rules: ScanRules): ScanOutcome<F> {
  const roots = new Set(entries.map((e) => e.path.split('/')[0]!));
  for (const f of rules.folders ?? []) roots.add(f.split('/')[0]!);
  const root = roots.size === 1 ? [...roots][0]! : '';
  const skipped: ScanOutcome<F>['skipped'] = [];
  const byClass = new Map<string, { path: string; file: F }[]>();
  // With several roots (several folders dropped at once) each dropped folder is a class.
  const depth0 = roots.size === 1 ? 1 : 0;
  const classFolder = (parts: string[]) => parts[depth0]!;

  for (const f of rules.folders ?? []) {
    const parts = f.split('/').filter(Boolean);
    if (parts.length > depth0 && !parts.some((p) => p.startsWith('.')) && !byClass.has(classFolder(parts))) byClass.set(classFolder(parts), []);
  }
  for (const e of entries) {
    const parts = e.path.split('/').filter(Boolean);
    if (parts.some((p) => p.startsWith('.'))) continue;
    if (parts.length <= depth0 + 1) {
      skipped.push({ path: e.path, reason: 'not inside a class subfolder' });
      continue;
    }
    const cls = classFolder(parts);
    if (!byClass.has(cls)) byClass.set(cls, []);
    const ext = extension(parts[parts.length - 1]!);
    if ((IMAGE_EXTENSIONS as readonly string[]).includes(ext)) byClass.get(cls)!.push({ path: e.path, file: e.file });
    else skipped.push({ path: e.path, reason: `not an image (${ext || 'no extension'}); only ${EXT_LIST} are read` });
  }

  const classes = [...byClass.keys()].sort();
  const files: ScanOutcome<F>['files'] = [];
  const perClass = classes.map((cls, label) => {
    const list = byClass.get(cls)!.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const x of list) files.push({ ...x, label });
    return list.length;
  });
  return { root, classes, files, perClass, skipped, ...judge(classes, perClass, rules.allowSmall) };
}

/** The CLI's refusals and warnings for a dataset of these class sizes. */
export function judge(classes: string[], perClass: number[], allowSmall: boolean): { refusals: string[]; warnings: string[] } {
  const refusals: string[] = [];
  const warnings: string[] = [];
  const total = perClass.reduce((a, b) => a + b, 0);
  if (classes.length === 0) {
    refusals.push('No class subfolders: choose a folder that holds one subfolder of images per class (e.g. photos/cat, photos/dog).');
  } else if (classes.length === 1) {
    refusals.push(`Only one class ("${classes[0]}"): a classifier needs at least two class subfolders; add another.`);
  }
  classes.forEach((c, i) => {
    if (perClass[i] === 0) refusals.push(`Class folder "${c}" has no images (${EXT_LIST}): add images to it or remove it.`);
  });
  if (classes.length >= 2 && total < MIN_IMAGES) {
    const msg = `Only ${total} images, fewer than the ${MIN_IMAGES} needed for a useful model: add more images`;
    if (allowSmall) warnings.push(`${msg}. Training anyway because "allow fewer than ${MIN_IMAGES}" is ticked.`);
    else refusals.push(`${msg}, or tick "allow fewer than ${MIN_IMAGES}" to train anyway.`);
  }
  if (total > 5000) warnings.push(`${total.toLocaleString('en-US')} images: over 5,000, a larger model than MobileNetV3-Small would likely reach higher accuracy.`);
  const nonEmpty = perClass.filter((n) => n > 0);
  if (nonEmpty.length >= 2 && Math.max(...nonEmpty) >= 5 * Math.min(...nonEmpty)) {
    warnings.push(`The classes are unbalanced (${Math.min(...nonEmpty)} to ${Math.max(...nonEmpty)} images): the small classes will be recognised less well.`);
  }
  return { refusals, warnings };
}
