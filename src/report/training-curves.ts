import { Canvas, textWidth, type Color } from './canvas.js';
import { niceTicks, formatTick, type Ticks } from './axes.js';

/** One epoch's metrics. Accuracies are fractions in [0, 1]; validation values are optional. */
export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  valLoss?: number;
  valAcc?: number;
}

const TRAIN: Color = [31, 100, 180];
const VAL: Color = [230, 110, 20];
const INK: Color = [30, 30, 30];
const GRID: Color = [228, 228, 228];
const MUTED: Color = [110, 110, 110];

const W = 1000, H = 470;
const PANEL_TOP = 88, PANEL_BOTTOM = H - 56;
const PANELS = [{ left: 78, right: 475 }, { left: 583, right: 980 }];

/**
 * Draws the training history as a PNG: a loss panel and an accuracy panel side by side, training in
 * blue and validation in orange, with tick labels, a legend, and the final and best values in the
 * header. Non-finite values leave a gap in their line. With `savedEpoch` (the epoch whose weights were
 * kept), that epoch is marked with a dashed line and named in the header. Returns the PNG bytes.
 */
export function drawTrainingCurves(history: readonly EpochMetrics[], title = 'Training curves', options: { savedEpoch?: number | null } = {}): Buffer {
  const c = new Canvas(W, H);
  const rows = [...history].sort((a, b) => a.epoch - b.epoch);
  c.text(W / 2, 12, title, INK, { scale: 2, align: 'center' });

  const hasVal = rows.some((r) => isNum(r.valLoss) || isNum(r.valAcc));
  c.text(W / 2, 38, summary(rows, hasVal, options.savedEpoch ?? null), MUTED, { align: 'center' });
  legend(c, W / 2, 58, hasVal);

  if (rows.length === 0) {
    c.text(W / 2, (PANEL_TOP + PANEL_BOTTOM) / 2, 'no epochs recorded', MUTED, { scale: 2, align: 'center' });
    return c.toPNG();
  }
  const first = rows[0].epoch, last = rows[rows.length - 1].epoch;
  const xt = niceTicks(first === last ? first - 1 : first, first === last ? last + 1 : last, 8, true);
  xt.min = Math.max(xt.min, first === last ? first - 1 : first);
  xt.max = first === last ? last + 1 : Math.min(xt.max, last);
  xt.values = xt.values.filter((v) => v >= xt.min && v <= xt.max);

  const losses = rows.flatMap((r) => [r.trainLoss, r.valLoss]).filter(isNum);
  const maxLoss = losses.length ? Math.max(...losses) : 1;
  const minLoss = losses.length ? Math.min(...losses) : 0;
  const lt = niceTicks(Math.min(0, minLoss), maxLoss > 0 ? maxLoss * 1.04 : 1, 6);
  const saved = options.savedEpoch ?? null;
  panel(c, PANELS[0], 'Loss', 'loss', xt, lt, (v) => formatTick(v, lt.step), saved, [
    { color: TRAIN, pts: rows.map((r) => [r.epoch, r.trainLoss]) },
    ...(hasVal ? [{ color: VAL, pts: rows.map((r): [number, number | undefined] => [r.epoch, r.valLoss]) }] : []),
  ]);
  const at = niceTicks(0, 100, 5);
  panel(c, PANELS[1], 'Accuracy', 'accuracy (%)', xt, at, (v) => `${formatTick(v, at.step)}%`, saved, [
    { color: TRAIN, pts: rows.map((r) => [r.epoch, r.trainAcc * 100]) },
    ...(hasVal ? [{ color: VAL, pts: rows.map((r): [number, number | undefined] => [r.epoch, isNum(r.valAcc) ? r.valAcc * 100 : undefined]) }] : []),
  ]);
  return c.toPNG();
}

function isNum(v: number | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

function summary(rows: readonly EpochMetrics[], hasVal: boolean, savedEpoch: number | null): string {
  if (rows.length === 0) return '';
  const lastRow = rows[rows.length - 1];
  const parts = [`${rows.length} epoch${rows.length === 1 ? '' : 's'}`];
  if (isNum(lastRow.trainAcc)) parts.push(`final train acc ${pct(lastRow.trainAcc)}`);
  if (hasVal) {
    if (isNum(lastRow.valAcc)) parts.push(`final val acc ${pct(lastRow.valAcc)}`);
    let best: EpochMetrics | undefined = savedEpoch !== null ? rows.find((r) => r.epoch === savedEpoch) : undefined;
    if (!best) for (const r of rows) if (isNum(r.valAcc) && (!best || r.valAcc > best.valAcc!)) best = r;
    if (best && isNum(best.valAcc)) parts.push(`best val acc ${pct(best.valAcc)} (epoch ${best.epoch}${savedEpoch === best.epoch ? ', saved' : ''})`);
  }
  return parts.join('   ');
}

function legend(c: Canvas, cx: number, y: number, hasVal: boolean): void {
  const items: [string, Color][] = [['train', TRAIN]];
  if (hasVal) items.push(['validation', VAL]);
  const widths = items.map(([t]) => 26 + textWidth(t));
  const total = widths.reduce((a, b) => a + b, 0) + 24 * (items.length - 1);
  let x = Math.round(cx - total / 2);
  items.forEach(([label, color], i) => {
    c.line(x, y + 3, x + 18, y + 3, color, 3);
    c.text(x + 26, y, label, INK);
    x += widths[i] + 24;
  });
}

interface Series {
  color: Color;
  pts: [number, number | undefined][];
}

function panel(
  c: Canvas, box: { left: number; right: number }, title: string, yLabel: string,
  xt: Ticks, yt: Ticks, fmtY: (v: number) => string, savedEpoch: number | null, series: Series[],
): void {
  const { left, right } = box, top = PANEL_TOP, bottom = PANEL_BOTTOM;
  const sx = (v: number) => left + ((v - xt.min) / (xt.max - xt.min)) * (right - left);
  const sy = (v: number) => bottom - ((v - yt.min) / (yt.max - yt.min)) * (bottom - top);

  c.text((left + right) / 2, top - 14, title, INK, { align: 'center' });
  for (const v of yt.values) {
    const y = Math.round(sy(v));
    c.fillRect(left, y, right - left + 1, 1, GRID);
    c.fillRect(left - 4, y, 4, 1, INK);
    c.text(left - 7, y - 3, fmtY(v), INK, { align: 'right' });
  }
  for (const v of xt.values) {
    const x = Math.round(sx(v));
    c.fillRect(x, top, 1, bottom - top, GRID);
    c.fillRect(x, bottom + 1, 1, 4, INK);
    c.text(x, bottom + 9, String(v), INK, { align: 'center' });
  }
  c.fillRect(left, top, 1, bottom - top + 1, INK);
  c.fillRect(left, bottom, right - left + 1, 1, INK);
  c.text((left + right) / 2, bottom + 26, 'epoch', INK, { align: 'center' });
  c.text(left - 62, (top + bottom) / 2, yLabel, INK, { vertical: true, align: 'center' });

  if (savedEpoch !== null && savedEpoch >= xt.min && savedEpoch <= xt.max) {
    const x = Math.round(sx(savedEpoch));
    c.dashedLine(x, top, x, bottom - 1, MUTED);
    c.text(Math.min(right - textWidth('saved'), x + 4), top + 4, 'saved', MUTED);
  }
  const clampY = (v: number) => Math.min(bottom, Math.max(top, sy(v)));
  const markers = series[0]?.pts.length <= 60;
  for (const s of series) {
    let prev: [number, number] | null = null;
    for (const [e, v] of s.pts) {
      if (!isNum(v)) { prev = null; continue; }
      const p: [number, number] = [sx(e), clampY(v)];
      if (prev) c.line(prev[0], prev[1], p[0], p[1], s.color, 2);
      else c.fillCircle(p[0], p[1], 1, s.color);
      if (markers) c.fillCircle(p[0], p[1], 2.2, s.color);
      prev = p;
    }
  }
}
