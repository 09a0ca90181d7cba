/**
 * report.html: one self-contained file (no scripts, no network: styles inline, charts embedded as
 * PNG data URIs) with a run's results, that a user can open or send.
 */

/** One row of the per-class table. */
export interface ReportClassRow {
  class: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Everything the report shows. */
export interface ReportData {
  title: string;
  /** Key facts shown as cards at the top: label and value. */
  highlights: [string, string][];
  /** Sentences under the title (what was trained, where the model is). */
  notes: string[];
  /** Warnings from the dataset check and the run. */
  warnings: string[];
  perClass: ReportClassRow[] | null;
  averages: { name: string; precision: number; recall: number; f1: number; support: number }[];
  /** PNG images by section. */
  images: { curves?: Uint8Array; confusion?: Uint8Array; confusionNormalized?: Uint8Array; mistakes?: Uint8Array; lrFind?: Uint8Array };
  /** Per-epoch history rows. */
  history: { epoch: number; trainLoss: number; trainAcc: number; valLoss: number; valAcc: number; lr: number; seconds: number }[];
  bestEpoch: number | null;
  /** The run's configuration, shown as a table. */
  config: Record<string, unknown>;
  generatedAt: string;
}

/** Escapes text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '–');
const num = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '–');

function img(png: Uint8Array | undefined, alt: string): string {
  if (!png) return `<p class="muted">(${escapeHtml(alt)}: not available)</p>`;
  return `<img alt="${escapeHtml(alt)}" src="data:image/png;base64,${Buffer.from(png).toString('base64')}">`;
}

function configValue(v: unknown): string {
  if (v === undefined || v === null) return '–';
  if (typeof v === 'object') return escapeHtml(JSON.stringify(v));
  return escapeHtml(String(v));
}

const CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1e1e1e;margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:34px 0 10px;border-bottom:1px solid #dde;padding-bottom:4px}
.muted{color:#6b6f76}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}
.card{background:#fff;border:1px solid #dde;border-radius:8px;padding:10px 16px;min-width:130px}
.card b{display:block;font-size:22px}.card span{color:#6b6f76;font-size:13px}
img{max-width:100%;background:#fff;border:1px solid #dde;border-radius:6px}
.pair{display:flex;gap:14px;align-items:flex-start}.pair img{flex:0 1 auto;min-width:0;max-width:calc(50% - 7px);height:auto}
table{border-collapse:collapse;background:#fff;border:1px solid #dde;font-size:14px}
th,td{padding:5px 12px;border-bottom:1px solid #eef;text-align:right}th{background:#f0f2f5}
td:first-child,th:first-child{text-align:left}tr.avg td{font-weight:600;background:#fafbfc}
tr.best td{background:#fff6e5}.warn{background:#fff6e5;border:1px solid #f0d7a6;border-radius:6px;padding:8px 12px;margin:6px 0}
.bar{display:inline-block;height:8px;background:#2f6fb3;border-radius:2px;vertical-align:middle;margin-right:6px}
`;

/** The report as one HTML document. */
export function buildReportHtml(d: ReportData): string {
  const h: string[] = [];
  h.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`);
  h.push(`<title>${escapeHtml(d.title)}</title><style>${CSS}</style></head><body><main>`);
  h.push(`<h1>${escapeHtml(d.title)}</h1>`);
  for (const n of d.notes) h.push(`<div class="muted">${escapeHtml(n)}</div>`);
  h.push(`<div class="cards">${d.highlights.map(([k, v]) => `<div class="card"><b>${escapeHtml(v)}</b><span>${escapeHtml(k)}</span></div>`).join('')}</div>`);
  if (d.warnings.length) {
    h.push('<h2>Warnings</h2>');
    for (const w of d.warnings) h.push(`<div class="warn">${escapeHtml(w)}</div>`);
  }
  h.push('<h2>Training curves</h2>', img(d.images.curves, 'training curves'));
  if (d.perClass) {
    h.push('<h2>Per-class metrics (validation)</h2><table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>');
    for (const r of d.perClass) {
      h.push(`<tr><td>${escapeHtml(r.class)}</td><td>${pct(r.precision)}</td><td>${pct(r.recall)}</td>`
        + `<td><span class="bar" style="width:${Math.round(60 * (Number.isFinite(r.f1) ? r.f1 : 0))}px"></span>${pct(r.f1)}</td><td>${r.support}</td></tr>`);
    }
    for (const a of d.averages) h.push(`<tr class="avg"><td>${escapeHtml(a.name)}</td><td>${pct(a.precision)}</td><td>${pct(a.recall)}</td><td>${pct(a.f1)}</td><td>${a.support}</td></tr>`);
    h.push('</table>');
  }
  if (d.images.confusion || d.images.confusionNormalized) {
    h.push('<h2>Confusion matrices</h2><div class="pair">', img(d.images.confusion, 'confusion matrix (counts)'), img(d.images.confusionNormalized, 'confusion matrix (normalized by true class)'), '</div>');
  }
  if (d.images.mistakes) h.push('<h2>Most confident mistakes</h2>', img(d.images.mistakes, 'most confidently wrong validation images'));
  if (d.images.lrFind) h.push('<h2>Learning-rate range test</h2>', img(d.images.lrFind, 'learning-rate range test'));
  if (d.history.length) {
    h.push('<h2>Epochs</h2><table><tr><th>epoch</th><th>train loss</th><th>train acc</th><th>val loss</th><th>val acc</th><th>lr</th><th>seconds</th></tr>');
    for (const e of d.history) {
      h.push(`<tr${e.epoch === d.bestEpoch ? ' class="best"' : ''}><td>${e.epoch}${e.epoch === d.bestEpoch ? ' (best, saved)' : ''}</td><td>${num(e.trainLoss)}</td><td>${pct(e.trainAcc)}</td>`
        + `<td>${num(e.valLoss)}</td><td>${pct(e.valAcc)}</td><td>${Number.isFinite(e.lr) ? e.lr.toExponential(2) : '–'}</td><td>${num(e.seconds, 1)}</td></tr>`);
    }
    h.push('</table>');
  }
  h.push('<h2>Configuration</h2><table><tr><th>option</th><th>value</th></tr>');
  for (const [k, v] of Object.entries(d.config)) if (v !== undefined) h.push(`<tr><td>${escapeHtml(k)}</td><td style="text-align:left">${configValue(v)}</td></tr>`);
  h.push('</table>');
  h.push(`<p class="muted">Generated by mobilegrad on ${escapeHtml(d.generatedAt)}. This file is self-contained: it loads nothing from the network.</p>`);
  h.push('</main></body></html>\n');
  return h.join('\n');
}
