/** The results section: per-class accuracy, confusion matrix, most confidently misclassified images. */
import type { EvalView, Misclassified } from './protocol.js';

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : '–');

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

export function renderPerClass(table: HTMLTableElement, view: EvalView, classes: string[]): void {
  table.replaceChildren();
  const head = el('tr');
  for (const h of ['class', 'images', 'accuracy', '']) head.append(el('th', h));
  table.append(head);
  view.perClassAccuracy.forEach((acc, c) => {
    const tr = el('tr');
    const n = view.confusion[c]!.reduce((a, b) => a + b, 0);
    const bar = el('span', undefined, 'bar');
    bar.style.width = `${Math.round(80 * (Number.isFinite(acc) ? acc : 0))}px`;
    const barCell = el('td');
    barCell.append(bar);
    tr.append(el('td', classes[c] ?? String(c)), el('td', String(n)), el('td', pct(acc)), barCell);
    table.append(tr);
  });
}

export function renderConfusion(host: HTMLElement, view: EvalView, classes: string[]): void {
  const k = view.confusion.length;
  const table = el('table');
  const head = el('tr');
  head.append(el('th'));
  for (let c = 0; c < k; c++) {
    // Column names run vertically so that long class names do not widen or overlap the cells.
    const th = el('th', undefined, 'col');
    th.append(el('span', classes[c] ?? String(c)));
    th.title = `predicted ${classes[c]}`;
    head.append(th);
  }
  table.append(head);
  view.confusion.forEach((row, t) => {
    const tr = el('tr');
    const th = el('th', classes[t] ?? String(t), 'row');
    th.title = `true ${classes[t]}`;
    tr.append(th);
    const n = Math.max(1, row.reduce((a, b) => a + b, 0));
    row.forEach((v, p) => {
      const td = el('td', String(v));
      const share = v / n;
      // Diagonal (right) in green, off-diagonal (wrong) in red, shaded by the row's share.
      const [r, g, b] = t === p ? [26, 127, 75] : [180, 35, 24];
      td.style.background = v ? `rgba(${r}, ${g}, ${b}, ${0.12 + 0.7 * share})` : '#f6f8fa';
      td.style.color = share > 0.5 ? '#fff' : '#1d232b';
      td.title = `${v} ${classes[t]} predicted as ${classes[p]}`;
      tr.append(td);
    });
    table.append(tr);
  });
  host.replaceChildren(table);
}

function drawRgb(m: Misclassified): HTMLCanvasElement {
  const canvas = el('canvas');
  canvas.width = m.size;
  canvas.height = m.size;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(m.size, m.size);
  for (let i = 0, j = 0; i < m.size * m.size; i++, j += 3) {
    img.data[i * 4] = m.rgb[j]!;
    img.data[i * 4 + 1] = m.rgb[j + 1]!;
    img.data[i * 4 + 2] = m.rgb[j + 2]!;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

export function renderMisclassified(host: HTMLElement, view: EvalView, classes: string[]): void {
  host.replaceChildren();
  if (!view.misclassified.length) {
    host.append(el('p', view.count ? 'None: every validation image was classified correctly.' : 'No validation images (validation split 0).', 'hint'));
    return;
  }
  for (const m of view.misclassified) {
    const fig = el('figure');
    fig.title = m.path;
    const cap = el('figcaption');
    cap.append(el('strong', classes[m.predicted] ?? String(m.predicted)), document.createTextNode(` ${pct(m.confidence)}`), el('br'));
    cap.append(document.createTextNode(`truly ${classes[m.trueClass]}`), el('br'));
    cap.append(el('span', m.path.split('/').pop() ?? m.path, 'hint'));
    fig.append(drawRgb(m), cap);
    host.append(fig);
  }
}
