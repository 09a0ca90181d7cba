/** Report images (PNG charts drawn with pngjs only) and atomic file writes. */
export { Canvas, textWidth, truncateText, type Color, type TextOptions } from './canvas.js';
export { drawTrainingCurves, type EpochMetrics } from './training-curves.js';
export { drawConfusionMatrix, heatColor } from './confusion-matrix.js';
export { writeFileAtomic, writeFileAtomicSync } from './write-file-atomic.js';
