/** `mobilegrad train --profile [--trace FILE]`: the per-kernel table of one training step. */
import { writeFile } from 'node:fs/promises';
import { UsageError } from '../../data/usage-error.js';
import { traceSummary } from '../../profile/trace.js';
import { profileTrainingStep } from '../../train/profile-step.js';
import type { TrainOptions } from '../../train/options.js';

export async function cmdProfileStep(o: Partial<TrainOptions> & { data: string }, profile: boolean, traceFile: string | undefined): Promise<void> {
  if (!profile) throw new UsageError('--trace FILE goes with --profile');
  if (!o.data) throw new UsageError('--profile needs --data DIR (the images of the step)');
  if (o.resume) throw new UsageError('--profile profiles a fresh step: drop --resume');
  const r = await profileTrainingStep(o, (m) => process.stderr.write(m + '\n'));
  process.stdout.write(r.table() + '\n');
  process.stdout.write(`loss ${r.result.toFixed(4)}\n`);
  if (traceFile) {
    const trace = r.trace();
    await writeFile(traceFile, JSON.stringify(trace));
    process.stdout.write(`trace: ${traceFile} (open in https://ui.perfetto.dev or chrome://tracing)\n${traceSummary(trace)}\n`);
  }
}
