/**
 * The end-to-end benchmark's chart: one panel per workload, a horizontal bar per engine (images/s,
 * each panel on its own scale), the value at the end of each bar. PNG bytes via src/report/canvas.
 */
import { Canvas, textWidth, type Color } from '../src/report/canvas.js';

export interface ChartBar {
  label: string;
  value: number | null;
  color: Color;
  /** Shown after the value, e.g. "0.71x PyTorch". */
  note?: string;
}

export interface ChartPanel {
  title: string;
  unit: string;
  bars: ChartBar[];
}

const INK: Color = [30, 30, 30];
const MUTED: Color = [110, 110, 110];
const GRID: Color = [230, 230, 230];
const W = 1000;
const LABEL_W = 230;
const BAR_H = 18;
const GAP = 6;

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Draws the panels one under the other; returns PNG bytes. */
export function drawE2EChart(title: string, subtitle: string, panels: readonly ChartPanel[]): Buffer {
  const panelH = (p: ChartPanel) => 28 + p.bars.length * (BAR_H + GAP) + 14;
  const H = 70 + panels.reduce((s, p) => s + panelH(p), 0) + 10;
  const c = new Canvas(W, H);
  c.text(W / 2, 12, title, INK, { scale: 2, align: 'center' });
  c.text(W / 2, 38, subtitle, MUTED, { align: 'center' });
  let y = 70;
  const label = (b: ChartPanel['bars'][number]) => `${fmt(b.value ?? 0)}${b.note ? `  ${b.note}` : ''}`;
  for (const p of panels) {
    c.text(20, y, `${p.title} (${p.unit})`, INK);
    y += 20;
    const max = Math.max(1e-9, ...p.bars.map((b) => b.value ?? 0));
    // Bars end where the longest value-and-note text still fits after its bar (at least 200 px of bar).
    const right = Math.max(LABEL_W + 200, W - 16 - Math.max(0, ...p.bars.map((b) => (b.value === null ? 0 : textWidth(label(b))))));
    c.line(LABEL_W, y - 4, LABEL_W, y + p.bars.length * (BAR_H + GAP), GRID);
    for (const b of p.bars) {
      c.text(LABEL_W - 8, y + 5, b.label, INK, { align: 'right' });
      if (b.value === null || !Number.isFinite(b.value)) {
        c.text(LABEL_W + 6, y + 5, 'not measured', MUTED);
      } else {
        const w = Math.max(1, Math.round(((right - LABEL_W) * b.value) / max));
        c.fillRect(LABEL_W, y, w, BAR_H, b.color);
        const text = label(b);
        const x = LABEL_W + w + 6;
        c.text(Math.min(x, W - 10 - textWidth(text)), y + 5, text, INK);
      }
      y += BAR_H + GAP;
    }
    y += 14;
  }
  return c.toPNG();
}
