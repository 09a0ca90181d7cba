/** Live line charts on a canvas: training curves against epochs, redrawn as points arrive. */

export interface Series {
  name: string;
  color: string;
  /** [x, y] pairs, x in epochs. */
  points: [number, number][];
  /** Dots at each point (per-epoch values) rather than a plain line (per-step values). */
  dots?: boolean;
}

export interface ChartOptions {
  /** x range at least [0, xMax] (the planned number of epochs). */
  xMax: number;
  /** Fixed y range (accuracy: [0, 1]); otherwise from the data. */
  yRange?: [number, number];
  yFormat?: (v: number) => string;
}

/** A step of 1, 2 or 5 times a power of ten giving about `count` ticks over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/** Draws the series on `canvas` (device pixels follow its CSS size for sharp lines). */
export function drawChart(canvas: HTMLCanvasElement, series: Series[], o: ChartOptions): void {
  const dpr = globalThis.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || canvas.width;
  const cssH = Math.round(cssW * (canvas.height / canvas.width)) || canvas.height;
  if (canvas.width !== Math.round(cssW * dpr)) {
    canvas.style.height = `${cssH}px`;
    canvas.width = Math.round(cssW * dpr);
    canvas.height = Math.round(cssH * dpr);
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const W = canvas.width / dpr, H = canvas.height / dpr;
  ctx.clearRect(0, 0, W, H);
  const pad = { l: 46, r: 12, t: 26, b: 30 };
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  const xMax = Math.max(o.xMax, ...all.map(([x]) => x), 1);
  let [y0, y1] = o.yRange ?? [Math.min(...all.map(([, y]) => y)), Math.max(...all.map(([, y]) => y))];
  if (!all.length && !o.yRange) [y0, y1] = [0, 1];
  if (!o.yRange) {
    const m = (y1 - y0) * 0.08 || Math.abs(y1) * 0.1 || 0.1;
    y0 = Math.max(0, y0 - m);
    y1 += m;
  }
  const X = (x: number) => pad.l + (x / xMax) * (W - pad.l - pad.r);
  const Y = (y: number) => H - pad.b - ((y - y0) / (y1 - y0)) * (H - pad.t - pad.b);
  const fmt = o.yFormat ?? ((v: number) => (Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(2)));

  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  ctx.strokeStyle = '#e3e7ec';
  ctx.fillStyle = '#5e6875';
  const ys = niceStep(y1 - y0, 4);
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let v = Math.ceil(y0 / ys) * ys; v <= y1 + 1e-9; v += ys) {
    ctx.beginPath();
    ctx.moveTo(pad.l, Y(v));
    ctx.lineTo(W - pad.r, Y(v));
    ctx.stroke();
    ctx.fillText(fmt(v), pad.l - 6, Y(v));
  }
  const xs = Math.max(1, niceStep(xMax, 8));
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (let v = 0; v <= xMax + 1e-9; v += xs) ctx.fillText(String(Math.round(v)), X(v), H - pad.b + 6);
  ctx.textAlign = 'right';
  ctx.fillText('epoch', W - pad.r, H - 12);

  for (const s of series) {
    const pts = s.points.filter(([, y]) => Number.isFinite(y));
    if (!pts.length) continue;
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.lineWidth = s.dots ? 2 : 1.5;
    ctx.beginPath();
    pts.forEach(([x, y], i) => (i ? ctx.lineTo(X(x), Y(y)) : ctx.moveTo(X(x), Y(y))));
    ctx.stroke();
    if (s.dots || pts.length === 1) {
      for (const [x, y] of pts) {
        ctx.beginPath();
        ctx.arc(X(x), Y(y), 3, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  }
  // Legend along the top.
  let lx = pad.l;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  for (const s of series) {
    ctx.fillStyle = s.color;
    ctx.fillRect(lx, 9, 14, 3);
    ctx.fillStyle = '#1d232b';
    ctx.fillText(s.name, lx + 18, 11);
    lx += 26 + ctx.measureText(s.name).width;
  }
}
