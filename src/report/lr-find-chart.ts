import { Canvas, textWidth, type Color } from './canvas.js';
import { formatTick, niceTicks } from './axes.js';

const RAW: Color = [31, 100, 180, 0.35];
const SMOOTH: Color = [31, 100, 180];
const MARK: Color = [230, 110, 20];
const INK: Color = [30, 30, 30];
const GRID: Color = [228, 228, 228];
const MUTED: Color = [110, 110, 110];

/** What {@link drawLrFind} plots: the range test's learning rates, losses and its suggestion. */
export interface LrFindCurve {
  lrs: readonly number[];
  losses: readonly number[];
  smoothed: readonly number[];
  suggestion: number;
  minLossLr: number;
}

/** "1e-4", "3e-2", "0.1", "1", "10": short learning-rate labels. */
export function formatLr(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v >= 0.1 && v < 100) return String(Number(v.toPrecision(2)));
  const [m, e] = v.toExponential(1).split('e');
  return `${m!.replace(/\.0$/, '')}e${Number(e)}`;
}

/**
 * Draws the learning-rate range test as a PNG: loss against learning rate on a logarithmic axis,
 * each step's loss faint and the smoothed loss solid, the lowest smoothed loss and the suggested
 * learning rate marked. The loss axis is cut at 4x the lowest smoothed loss so the diverging tail
 * does not flatten the interesting part.
 */
export function drawLrFind(curve: LrFindCurve, title = 'Learning-rate range test'): Buffer {
  const W = 900, H = 520, left = 86, right = W - 30, top = 80, bottom = H - 64;
  const c = new Canvas(W, H);
  c.text(W / 2, 12, title, INK, { scale: 2, align: 'center' });
  const n = curve.lrs.length;
  c.text(W / 2, 38, n ? `${n} steps, lr ${formatLr(curve.lrs[0]!)} to ${formatLr(curve.lrs[n - 1]!)}; suggested lr ${formatLr(curve.suggestion)} (lowest smoothed loss at ${formatLr(curve.minLossLr)}, divided by 10)` : 'no steps recorded', MUTED, { align: 'center' });
  if (!n) return c.toPNG();

  const lx0 = Math.floor(Math.log10(curve.lrs[0]!)), lx1 = Math.ceil(Math.log10(curve.lrs[n - 1]!));
  const sx = (lr: number) => left + ((Math.log10(lr) - lx0) / Math.max(1e-9, lx1 - lx0)) * (right - left);
  const finite = curve.smoothed.filter(Number.isFinite);
  const lo = Math.min(...finite, ...curve.losses.filter(Number.isFinite));
  const minS = Math.min(...finite);
  const hi = Math.min(Math.max(...curve.losses.filter(Number.isFinite)), 4 * minS);
  const yt = niceTicks(Math.max(0, lo * 0.95), hi * 1.02, 6);
  const sy = (v: number) => bottom - ((v - yt.min) / (yt.max - yt.min)) * (bottom - top);
  const clampY = (v: number) => Math.min(bottom, Math.max(top, sy(v)));

  for (const v of yt.values) {
    const y = Math.round(sy(v));
    c.fillRect(left, y, right - left + 1, 1, GRID);
    c.text(left - 7, y - 3, formatTick(v, yt.step), INK, { align: 'right' });
  }
  for (let d = lx0; d <= lx1; d++) {
    const x = Math.round(sx(10 ** d));
    c.fillRect(x, top, 1, bottom - top, GRID);
    c.fillRect(x, bottom + 1, 1, 5, INK);
    c.text(x, bottom + 10, formatLr(10 ** d), INK, { align: 'center' });
    for (let k = 2; k < 10 && d < lx1; k++) c.fillRect(Math.round(sx(k * 10 ** d)), bottom + 1, 1, 3, MUTED);
  }
  c.fillRect(left, top, 1, bottom - top + 1, INK);
  c.fillRect(left, bottom, right - left + 1, 1, INK);
  c.text((left + right) / 2, bottom + 30, 'learning rate (log scale)', INK, { align: 'center' });
  c.text(left - 66, (top + bottom) / 2, 'training loss', INK, { vertical: true, align: 'center' });

  const plot = (ys: readonly number[], color: Color, width: number) => {
    let prev: [number, number] | null = null;
    for (let i = 0; i < n; i++) {
      const v = ys[i]!;
      if (!Number.isFinite(v)) { prev = null; continue; }
      const p: [number, number] = [sx(curve.lrs[i]!), clampY(v)];
      if (prev) c.line(prev[0], prev[1], p[0], p[1], color, width);
      prev = p;
    }
  };
  plot(curve.losses, RAW, 1);
  plot(curve.smoothed, SMOOTH, 2.5);
  const mark = (lr: number, label: string) => {
    if (!(lr > 0)) return;
    const x = Math.round(sx(lr));
    c.dashedLine(x, top, x, bottom, MARK);
    const tw = textWidth(label);
    c.text(Math.min(right - tw, x + 5), top + 6, label, MARK);
  };
  mark(curve.suggestion, `suggested ${formatLr(curve.suggestion)}`);
  const iMin = curve.smoothed.indexOf(minS);
  if (iMin >= 0) c.fillCircle(sx(curve.lrs[iMin]!), clampY(minS), 4, MARK);
  return c.toPNG();
}
