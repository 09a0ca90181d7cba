/**
 * Agreement between two models' predictions on the same labelled images: top-1 agreement overall
 * and per class, and each model's accuracy. What `quantize`, `train --quantize` and `export` print,
 * and what their self-checks hold to a tolerance.
 */
export interface Agreement {
  count: number;
  /** Fraction of images where both models' top-1 classes are equal. */
  agreement: number;
  accuracyA: number;
  accuracyB: number;
  perClass: { agreement: number; accuracyA: number; accuracyB: number; count: number }[];
}

/** Top-1 class of each row of `probs` [n, k]. */
export function argmaxRows(probs: ArrayLike<number>, k: number): Int32Array {
  const n = Math.floor(probs.length / k);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c]! > probs[i * k + best]!) best = c;
    out[i] = best;
  }
  return out;
}

export function compareTop1(a: Int32Array, b: Int32Array, labels: ArrayLike<number>, numClasses: number): Agreement {
  const per = Array.from({ length: numClasses }, () => ({ same: 0, okA: 0, okB: 0, count: 0 }));
  let same = 0;
  let okA = 0;
  let okB = 0;
  for (let i = 0; i < a.length; i++) {
    const y = labels[i]!;
    const p = per[y]!;
    p.count++;
    if (a[i] === b[i]) (same++, p.same++);
    if (a[i] === y) (okA++, p.okA++);
    if (b[i] === y) (okB++, p.okB++);
  }
  const n = Math.max(1, a.length);
  return {
    count: a.length,
    agreement: same / n,
    accuracyA: okA / n,
    accuracyB: okB / n,
    perClass: per.map((p) => ({ agreement: p.count ? p.same / p.count : NaN, accuracyA: p.count ? p.okA / p.count : NaN, accuracyB: p.count ? p.okB / p.count : NaN, count: p.count })),
  };
}

/** The agreement table as text lines (what the CLI prints). */
export function agreementLines(ag: Agreement, classNames: string[], nameA: string, nameB: string): string[] {
  const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');
  const w = Math.max(5, ...classNames.map((c) => c.length));
  const lines = [
    `${nameA} accuracy ${pct(ag.accuracyA)}, ${nameB} accuracy ${pct(ag.accuracyB)}, top-1 agreement ${pct(ag.agreement)} on ${ag.count} images`,
    `  ${'class'.padEnd(w)}  ${'images'.padStart(6)}  ${'agree'.padStart(6)}  ${nameA.padStart(8)}  ${nameB.padStart(8)}`,
  ];
  ag.perClass.forEach((p, c) => lines.push(`  ${(classNames[c] ?? String(c)).padEnd(w)}  ${String(p.count).padStart(6)}  ${pct(p.agreement).padStart(6)}  ${pct(p.accuracyA).padStart(8)}  ${pct(p.accuracyB).padStart(8)}`));
  return lines;
}
