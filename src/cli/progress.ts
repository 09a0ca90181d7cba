/** Progress display for the terminal: a redrawn bar on a TTY, periodic lines otherwise. */
import type { EpochMetrics, StepInfo } from '../train/trainer.js';

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

export class Progress {
  private lastLine = 0;
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly quiet = false) {}

  step(s: StepInfo): void {
    if (this.quiet) return;
    const width = 24;
    const frac = (s.step + 1) / s.steps;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const text = `epoch ${s.epoch + 1}/${s.epochs} [${bar}] ${s.step + 1}/${s.steps} loss ${s.loss.toFixed(4)} acc ${(100 * s.accuracy).toFixed(1)}% ${s.imagesPerSecond.toFixed(1)} img/s ETA ${fmtTime(s.etaSeconds)}`;
    if (this.stream.isTTY) this.stream.write(`\r${text}\x1b[K`);
    else {
      const now = Date.now();
      if (now - this.lastLine > 10_000 || s.step + 1 === s.steps) {
        this.stream.write(text + '\n');
        this.lastLine = now;
      }
    }
  }

  epoch(m: EpochMetrics): void {
    if (this.stream.isTTY && !this.quiet) this.stream.write('\r\x1b[K');
    const val = Number.isNaN(m.valAcc) ? 'no validation set' : `val loss ${m.valLoss.toFixed(4)} val acc ${(100 * m.valAcc).toFixed(1)}%`;
    this.stream.write(`epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)} acc ${(100 * m.trainAcc).toFixed(1)}% | ${val} | ${m.seconds.toFixed(1)} s, ${m.imagesPerSecond.toFixed(1)} img/s\n`);
  }
}
