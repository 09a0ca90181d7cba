/**
 * `mobilegrad bench`: steady-state training or inference speed of MobileNetV3-Small on this
 * machine's adapter, warm-up excluded (src/train/measure.ts). With --json, one JSON line.
 */
import { UsageError } from '../../data/usage-error.js';
import { init } from '../../device/device.js';
import { measure } from '../../train/measure.js';
import { helpText, parseArgs, type FlagSpec } from '../args.js';

const BENCH_FLAGS: FlagSpec = {
  task: { type: 'string', help: 'train (forward, backward, AdamW; batch already on the GPU) or infer (train)' },
  'image-size': { type: 'number', help: 'input resolution (224)' },
  'batch-size': { type: 'number', help: 'images per step (32)' },
  steps: { type: 'number', help: 'timed steps after the warm-up (5)' },
  warmup: { type: 'number', help: 'untimed steps first (3)' },
  classes: { type: 'number', help: 'classifier outputs (10)' },
  precision: { type: 'string', help: 'f32 (f16 is not available yet)' },
  eager: { type: 'boolean', help: 'run every step eagerly instead of recording it once and replaying it' },
  sequential: { type: 'boolean', help: 'wait for each step before issuing the next (default for training: pipelined, as the trainer runs)' },
  unfused: { type: 'boolean', help: 'infer with Conv, BatchNorm and activation as separate kernels (default: one fused kernel each)' },
  json: { type: 'boolean', help: 'print one JSON line' },
  help: { type: 'boolean', help: 'show this help' },
};

function wholeNumber(v: unknown, name: string, fallback: number, min: number): number {
  const x = v === undefined ? fallback : (v as number);
  if (!Number.isInteger(x) || x < min) throw new UsageError(`--${name} must be a whole number of at least ${min}, got ${x}`);
  return x;
}

export async function cmdBench(argv: string[]): Promise<void> {
  const { flags, positional } = parseArgs(argv, BENCH_FLAGS, 'bench');
  if (flags.help) return void process.stdout.write(helpText('bench', '--task train|infer [--image-size N] [--batch-size N] [--steps N] [--json]', BENCH_FLAGS));
  if (positional.length) throw new UsageError(`'bench' takes no file arguments, got '${positional[0]}'`);
  const task = (flags.task as string | undefined) ?? 'train';
  if (task !== 'train' && task !== 'infer') throw new UsageError(`--task must be train or infer, got '${task}'`);
  if (flags.sequential && task !== 'train') throw new UsageError('--sequential applies to --task train: inference steps are always measured one at a time (batch-1 latency is a request\'s round trip)');
  if (flags.unfused && task !== 'infer') throw new UsageError('--unfused applies to --task infer: training always runs Conv and BatchNorm as separate kernels (they have backward rules)');
  const precision = (flags.precision as string | undefined) ?? 'f32';
  if (precision === 'f16') throw new UsageError('--precision f16 is not available yet: mobilegrad trains in f32 (f16 storage kernels are planned; on lavapipe f16 math is slower than f32)');
  if (precision !== 'f32') throw new UsageError(`--precision must be f32 or f16, got '${precision}'`);
  const imageSize = wholeNumber(flags['image-size'], 'image-size', 224, 32);
  const batchSize = wholeNumber(flags['batch-size'], 'batch-size', 32, task === 'train' ? 2 : 1);
  const steps = wholeNumber(flags.steps, 'steps', 5, 1);
  const warmup = wholeNumber(flags.warmup, 'warmup', 3, 0);
  const numClasses = wholeNumber(flags.classes, 'classes', 10, 2);
  const report = await init();
  const m = await measure({ task, imageSize, batchSize, steps, warmup, numClasses, replay: !flags.eager, fuse: !flags.unfused, ...(flags.sequential ? { pipeline: false } : {}) });
  const adapter = report.adapter.description || report.adapter.device || report.adapter.vendor;
  const out = { ...m, precision, classes: numClasses, adapter };
  if (flags.json) return void process.stdout.write(JSON.stringify(out) + '\n');
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  process.stdout.write(
    `${task} ${imageSize}x${imageSize}, batch ${batchSize}, ${m.replay ? 'recorded step replayed' : 'eager'}${task === 'infer' ? (m.fused ? ', fused Conv-BN-activation' : ', separate kernels') : ''} (${adapter})\n` +
      `  ${m.images_per_second.toFixed(2)} images/s, ${m.ms_per_step.toFixed(1)} ms per step (median of ${steps}, ${warmup} warm-up${m.pipelined ? '; steps pipelined: the interval between results' : ''})\n` +
      `  JavaScript ${m.js_ms_per_step.toFixed(3)} ms per step (encode ${m.js_encode_ms_per_step.toFixed(2)}, submit ${m.js_submit_ms_per_step.toFixed(2)}), ${m.dispatches_per_step.toFixed(0)} dispatches, ${m.submits_per_step.toFixed(1)} submits\n` +
      `  peak GPU memory ${mib(m.peak_gpu_bytes)}\n`,
  );
}
