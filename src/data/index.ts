/** The CPU-side data pipeline: folder scan, decoding, resizing, caching, splits, recipes, batches. */
export { UsageError } from './usage-error.js';
export { scanImageFolder, IMAGE_EXTENSIONS, type ScanResult, type ScanOptions, type ImageFile, type SkippedFile } from './scan-folder.js';
export { decodeImage, sniffImageFormat, exifOrientation, applyOrientation, type RgbImage, type ImageFormat } from './decode-image.js';
export { resizeRgb, centerSquare, type CropBox } from './resize.js';
export { loadImageFolder, defaultCacheDir, type LoadOptions, type LoadedDataset } from './dataset.js';
export { stratifiedSplit, shuffleInPlace, type Split } from './split.js';
export { recommendRecipe, type Recipe, type AugmentationLevel } from './recipe.js';
export { shuffledBatches, assembleBatch, IMAGENET_MEAN, IMAGENET_STD } from './batches.js';
