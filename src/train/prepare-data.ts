/**
 * The trainer's data in Node: the image folder decoded at the training size (cached), the
 * validation set (a folder, or a stratified split), and the dataset check's view of both.
 */
import { loadImageFolder, type LoadedDataset } from '../data/dataset.js';
import type { CheckedImage } from '../data/dataset-check.js';
import type { ResizeMode } from '../data/resize.js';
import { stratifiedSplit } from '../data/split.js';
import { UsageError } from '../data/usage-error.js';
import type { ImageSet } from './evaluate.js';

/** What the trainer needs to know to load its data. */
export interface DataOptions {
  data: string;
  val?: string;
  valSplit: number;
  seed: number;
  imageSize: number;
  resize?: ResizeMode;
  allowSmall: boolean;
  cacheDir?: string | null;
}

/** Training and validation images in one set, with what the dataset check needs. */
export interface PreparedData {
  classes: string[];
  set: ImageSet;
  trainIdx: number[];
  valIdx: number[];
  /** Files not used (not images, or undecodable), with the reason. */
  skipped: LoadedDataset['skipped'];
  /** Every image of `set`, in order, as the dataset check sees it. */
  checked: CheckedImage[];
}

/** Loads `--data` (and `--val`) for training. */
export async function prepareData(o: DataOptions): Promise<PreparedData> {
  const data = await loadImageFolder(o.data, { imageSize: o.imageSize, resize: o.resize, allowSmall: o.allowSmall, cacheDir: o.cacheDir });
  const skipped = [...data.skipped];
  const checkedOf = (d: LoadedDataset, split: (i: number) => 'train' | 'val'): CheckedImage[] =>
    d.paths.map((path, i) => ({ path, label: d.labels[i]!, split: split(i), info: d.infos[i]! }));
  if (!o.val) {
    const split = stratifiedSplit(data.labels, o.valSplit, o.seed);
    const isVal = new Set(split.val);
    return { classes: data.classes, set: data, trainIdx: split.train, valIdx: split.val, skipped, checked: checkedOf(data, (i) => (isVal.has(i) ? 'val' : 'train')) };
  }
  const val = await loadImageFolder(o.val, { imageSize: o.imageSize, resize: o.resize, allowSmall: true, minImages: 1, cacheDir: o.cacheDir });
  skipped.push(...val.skipped);
  if (val.classes.join('\n') !== data.classes.join('\n')) {
    throw new UsageError(`--val ${o.val} has classes [${val.classes.join(', ')}] but --data has [${data.classes.join(', ')}]: both need the same class folders`);
  }
  const images = new Uint8Array(data.images.length + val.images.length);
  images.set(data.images);
  images.set(val.images, data.images.length);
  const labels = new Int32Array(data.count + val.count);
  labels.set(data.labels);
  labels.set(val.labels, data.count);
  return {
    classes: data.classes,
    set: { images, labels, imageSize: o.imageSize },
    trainIdx: [...Array(data.count).keys()],
    valIdx: Array.from({ length: val.count }, (_, i) => data.count + i),
    skipped,
    checked: [...checkedOf(data, () => 'train'), ...checkedOf(val, () => 'val')],
  };
}
