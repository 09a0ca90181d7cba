import { Canvas, textWidth, truncateText, type Color } from './canvas.js';

const INK: Color = [30, 30, 30];
const MUTED: Color = [120, 120, 120];
const MAX_NAME = 16;

/** Colour of a share in [0, 1]: white through light blue to deep blue. */
export function heatColor(share: number): [number, number, number] {
  const stops: [number, [number, number, number]][] = [
    [0, [255, 255, 255]], [0.15, [214, 230, 244]], [0.45, [120, 175, 215]], [0.75, [40, 110, 180]], [1, [10, 50, 115]],
  ];
  const t = Math.min(1, Math.max(0, Number.isFinite(share) ? share : 0));
  for (let i = 1; i < stops.length; i++) {
    const [t1, c1] = stops[i];
    if (t <= t1) {
      const [t0, c0] = stops[i - 1];
      const f = (t - t0) / (t1 - t0);
      return [0, 1, 2].map((k) => Math.round(c0[k] + (c1[k] - c0[k]) * f)) as [number, number, number];
    }
  }
  return stops[stops.length - 1][1];
}

/**
 * Draws a confusion matrix as a PNG heatmap. `matrix[t][p]` counts images of true class t predicted
 * as class p. Each cell's colour is its share of its row (so every true class is on the same scale,
 * whatever its size) and the count is written in the cell when it fits. Rows are labelled with the
 * true class on the left, columns with the predicted class on top (rotated); names longer than
 * 16 characters are cut with an ellipsis. The per-class recall is written right of each row and
 * the overall accuracy in the title.
 *
 * With `normalized`, each cell shows its share of the row as a percentage instead of the count.
 *
 * @throws RangeError when the matrix is not square or does not match `classNames`.
 */
export function drawConfusionMatrix(matrix: readonly (readonly number[])[], classNames: readonly string[], title = 'Confusion matrix', options: { normalized?: boolean } = {}): Buffer {
  const n = classNames.length;
  if (matrix.length !== n || matrix.some((row) => row.length !== n)) {
    throw new RangeError(`drawConfusionMatrix: expected a ${n}x${n} matrix for ${n} class names`);
  }
  const names = classNames.map((s) => truncateText(s, MAX_NAME));
  const nameW = Math.max(0, ...names.map((s) => textWidth(s)));
  const cell = Math.max(12, Math.min(56, Math.floor(640 / Math.max(1, n))));
  const gridW = cell * n;
  const left = 32 + nameW + 10;
  const top = 76 + nameW + 8;
  let total = 0, correct = 0;
  for (let t = 0; t < n; t++) for (let p = 0; p < n; p++) {
    const v = matrix[t][p];
    if (Number.isFinite(v)) { total += v; if (t === p) correct += v; }
  }
  const acc = total > 0 ? ` - accuracy ${((correct / total) * 100).toFixed(1)}% of ${total}` : '';
  const subtitle = `rows: true class, columns: predicted class, ${options.normalized ? 'cells' : 'colour'}: share of the row${acc}`;
  const width = Math.max(left + gridW + 8 + textWidth('100.0%') + 24, textWidth(subtitle) + 24, textWidth(title, 2) + 40);
  const height = top + gridW + 36;
  const c = new Canvas(width, height);

  c.text(width / 2, 12, title, INK, { scale: 2, align: 'center' });
  c.text(width / 2, 36, subtitle, MUTED, { align: 'center' });

  // Axis titles; column labels (rotated, reading upwards from just above the grid); row labels.
  c.text(left + gridW / 2, 58, 'predicted class', MUTED, { align: 'center' });
  c.text(12, top + gridW / 2, 'true class', MUTED, { vertical: true, align: 'center' });
  for (let i = 0; i < n; i++) {
    const cx = left + i * cell + Math.floor(cell / 2) - 4;
    c.text(cx, top - 6, names[i], INK, { vertical: true });
    const cy = top + i * cell + Math.floor(cell / 2) - 3;
    c.text(left - 8, cy, names[i], INK, { align: 'right' });
  }
  for (let t = 0; t < n; t++) {
    const rowSum = matrix[t].reduce((a, v) => a + (Number.isFinite(v) ? v : 0), 0);
    for (let p = 0; p < n; p++) {
      const v = matrix[t][p];
      const share = rowSum > 0 && Number.isFinite(v) ? v / rowSum : 0;
      const x = left + p * cell, y = top + t * cell;
      c.fillRect(x, y, cell, cell, heatColor(share));
      const label = !Number.isFinite(v) ? '?' : options.normalized ? (rowSum > 0 ? `${Math.round(share * 100)}%` : '-') : String(v);
      if (textWidth(label) <= cell - 4) {
        const color: Color = v === 0 ? [190, 190, 190] : share > 0.5 ? [255, 255, 255] : INK;
        c.text(x + cell / 2, y + Math.floor((cell - 7) / 2), label, color, { align: 'center' });
      }
    }
    const recall = rowSum > 0 ? `${((matrix[t][t] / rowSum) * 100).toFixed(1)}%` : '-';
    c.text(left + gridW + 8, top + t * cell + Math.floor(cell / 2) - 3, recall, MUTED);
  }
  // Grid lines between cells, and a frame; the diagonal is outlined.
  for (let i = 1; i < n; i++) {
    c.fillRect(left + i * cell, top, 1, gridW, [255, 255, 255, 0.6]);
    c.fillRect(left, top + i * cell, gridW, 1, [255, 255, 255, 0.6]);
  }
  c.strokeRect(left - 1, top - 1, gridW + 2, gridW + 2, INK);
  c.text(left + gridW + 8, top - 14, 'recall', MUTED);
  return c.toPNG();
}
