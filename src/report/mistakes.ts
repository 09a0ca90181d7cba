import { Canvas, textWidth, truncateText, type Color } from './canvas.js';

const INK: Color = [30, 30, 30];
const MUTED: Color = [110, 110, 110];
const WRONG: Color = [200, 40, 40];

/** A misclassified image: which one, its true and predicted class, and the predicted class's probability. */
export interface Mistake {
  /** Position in the evaluated list. */
  index: number;
  trueClass: number;
  predictedClass: number;
  confidence: number;
}

/**
 * The `limit` most confidently wrong predictions: rows of `probabilities` [n, k] whose arg-max is
 * not `labels[i]`, by the arg-max's probability, highest first (ties: lower index first).
 */
export function confidentMistakes(probabilities: Float32Array, labels: ArrayLike<number>, k: number, limit: number): Mistake[] {
  const out: Mistake[] = [];
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probabilities[i * k + c]! > probabilities[i * k + best]!) best = c;
    if (best !== labels[i]) out.push({ index: i, trueClass: labels[i]!, predictedClass: best, confidence: probabilities[i * k + best]! });
  }
  out.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
  return out.slice(0, limit);
}

/** Options of {@link drawMistakes}. */
export interface MistakesOptions {
  /** Tiles per row (default 6). */
  columns?: number;
  /** Side of each image tile in pixels (default 128; images are scaled to it). */
  tile?: number;
  /** Total number of misclassified images, for the header. */
  totalWrong?: number;
  /** Number of images evaluated, for the header. */
  totalImages?: number;
}

/**
 * Draws a grid of misclassified images (8-bit RGB squares of `size` px, one per mistake, in
 * order), each with its true class, predicted class and confidence under it.
 */
export function drawMistakes(images: readonly Uint8Array[], size: number, mistakes: readonly Mistake[], classNames: readonly string[], options: MistakesOptions = {}): Buffer {
  const cols = Math.max(1, Math.min(options.columns ?? 6, Math.max(1, mistakes.length)));
  const tile = options.tile ?? 128;
  const gap = 14, labelH = 26, top = 64;
  const rows = Math.max(1, Math.ceil(mistakes.length / cols));
  const maxChars = Math.floor((tile + gap - 4) / 6);
  const W = Math.max(cols * (tile + gap) + gap, 480);
  const H = top + rows * (tile + labelH + gap) + gap;
  const c = new Canvas(W, H);
  const title = 'Most confidently wrong validation images';
  c.text(W / 2, 12, title, INK, { scale: 2, align: 'center' });
  const wrong = options.totalWrong ?? mistakes.length;
  const sub = mistakes.length
    ? `${mistakes.length} of ${wrong} misclassified${options.totalImages ? ` (of ${options.totalImages} images)` : ''}, most confident first`
    : 'no validation image was misclassified';
  c.text(W / 2, 38, sub, MUTED, { align: 'center' });
  mistakes.forEach((m, i) => {
    const x0 = gap + (i % cols) * (tile + gap), y0 = top + Math.floor(i / cols) * (tile + labelH + gap);
    const img = images[i]!;
    // Nearest-neighbour scaling keeps small images crisp rather than blurred.
    for (let y = 0; y < tile; y++) {
      const sy = Math.min(size - 1, Math.floor((y * size) / tile));
      for (let x = 0; x < tile; x++) {
        const sx = Math.min(size - 1, Math.floor((x * size) / tile));
        const s = (sy * size + sx) * 3, d = ((y0 + y) * W + x0 + x) * 4;
        c.data[d] = img[s]!; c.data[d + 1] = img[s + 1]!; c.data[d + 2] = img[s + 2]!;
      }
    }
    c.strokeRect(x0 - 1, y0 - 1, tile + 2, tile + 2, WRONG);
    c.text(x0, y0 + tile + 5, truncateText(`true: ${classNames[m.trueClass] ?? m.trueClass}`, maxChars), INK);
    const conf = ` ${(m.confidence * 100).toFixed(0)}%`;
    const pred = truncateText(`pred: ${classNames[m.predictedClass] ?? m.predictedClass}`, maxChars - conf.length);
    c.text(x0, y0 + tile + 15, pred, WRONG);
    c.text(x0 + textWidth(pred) + 1, y0 + tile + 15, conf, MUTED);
  });
  return c.toPNG();
}
