/**
 * A run's result files in Node: metrics.json and metrics.csv, the charts (training curves,
 * confusion matrix raw and normalized, the most confident mistakes) and report.html, each written
 * atomically.
 */
import { join } from 'node:path';
import { drawConfusionMatrix } from '../report/confusion-matrix.js';
import { formatLr } from '../report/lr-find-chart.js';
import { confidentMistakes, drawMistakes } from '../report/mistakes.js';
import { buildReportHtml } from '../report/report-html.js';
import { drawTrainingCurves } from '../report/training-curves.js';
import { writeFileAtomic } from '../report/write-file-atomic.js';
import type { EvalResult, ImageSet } from './evaluate.js';
import type { EpochMetrics } from './loop.js';
import type { ClassificationMetrics } from './metrics.js';

/** How many mistakes mistakes.png shows at most. */
export const MISTAKES_SHOWN = 24;

/** What metrics.json holds. */
export interface MetricsFile {
  /** One row per epoch run. */
  epochs: EpochMetrics[];
  /** The epoch whose weights model.safetensors holds (the best validation accuracy), or null. */
  bestEpoch: number | null;
  /** Metrics of that model on the validation set (null without one). */
  validation: ClassificationMetrics | null;
}

/** Writes metrics.json and metrics.csv. */
export async function writeMetricsFiles(out: string, file: MetricsFile): Promise<void> {
  await writeFileAtomic(join(out, 'metrics.json'), JSON.stringify(file, null, 2) + '\n');
  const cols = ['epoch', 'trainLoss', 'trainAcc', 'valLoss', 'valAcc', 'lr', 'seconds', 'imagesPerSecond'] as const;
  const csv = [cols.join(','), ...file.epochs.map((h) => cols.map((c) => h[c]).join(','))].join('\n') + '\n';
  await writeFileAtomic(join(out, 'metrics.csv'), csv);
}

/** Everything the final report needs. */
export interface RunReportInput {
  out: string;
  classes: string[];
  history: EpochMetrics[];
  bestEpoch: number | null;
  /** Evaluation of the saved model on the validation set, with its metrics. */
  evaluation: EvalResult | null;
  metrics: ClassificationMetrics | null;
  set: ImageSet;
  valIdx: number[];
  options: Record<string, unknown>;
  warnings: string[];
  notes: string[];
  highlights: [string, string][];
  lrFindPng?: Uint8Array;
}

/** The files of the report written by {@link writeRunReport}. */
export const REPORT_FILES = ['training-curves.png', 'confusion-matrix.png', 'confusion-matrix-normalized.png', 'mistakes.png', 'report.html'] as const;

/** Writes the charts, mistakes.png and report.html (the charts that need a validation set only with one). */
export async function writeRunReport(r: RunReportInput): Promise<void> {
  const images: Parameters<typeof buildReportHtml>[0]['images'] = { lrFind: r.lrFindPng };
  if (r.history.length) {
    images.curves = drawTrainingCurves(r.history, 'Training curves', { savedEpoch: r.bestEpoch });
    await writeFileAtomic(join(r.out, 'training-curves.png'), images.curves);
  }
  if (r.evaluation) {
    images.confusion = drawConfusionMatrix(r.evaluation.confusion, r.classes, 'Confusion matrix (counts)');
    images.confusionNormalized = drawConfusionMatrix(r.evaluation.confusion, r.classes, 'Confusion matrix (normalized by true class)', { normalized: true });
    await writeFileAtomic(join(r.out, 'confusion-matrix.png'), images.confusion);
    await writeFileAtomic(join(r.out, 'confusion-matrix-normalized.png'), images.confusionNormalized);
    const k = r.classes.length;
    const labels = Int32Array.from(r.valIdx, (i) => r.set.labels[i]!);
    const all = confidentMistakes(r.evaluation.probabilities, labels, k, Infinity);
    const shown = all.slice(0, MISTAKES_SHOWN);
    const per = r.set.imageSize * r.set.imageSize * 3;
    const pixels = shown.map((m) => r.set.images.subarray(r.valIdx[m.index]! * per, (r.valIdx[m.index]! + 1) * per));
    images.mistakes = drawMistakes(pixels, r.set.imageSize, shown, r.classes, { totalWrong: all.length, totalImages: labels.length });
    await writeFileAtomic(join(r.out, 'mistakes.png'), images.mistakes);
  }
  const m = r.metrics;
  const html = buildReportHtml({
    title: 'mobilegrad training report',
    highlights: r.highlights,
    notes: r.notes,
    warnings: r.warnings,
    perClass: m?.perClass ?? null,
    averages: m ? [
      { name: 'macro average', ...m.macro, support: m.count },
      { name: 'weighted average', ...m.weighted, support: m.count },
    ] : [],
    images,
    history: r.history,
    bestEpoch: r.bestEpoch,
    config: Object.fromEntries(Object.entries(r.options).map(([k, v]) => [k, k === 'lr' && typeof v === 'number' ? formatLr(v) : v])),
    generatedAt: new Date().toISOString().replace('T', ' ').replace(/\..*/, ' UTC'),
  });
  await writeFileAtomic(join(r.out, 'report.html'), html);
}
