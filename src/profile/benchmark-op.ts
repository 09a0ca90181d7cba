/**
 * Benchmarking an op, built-in or declared with `mg.defineOp`: its forward and its backward are
 * each run once with the dispatcher capturing (and the kernels' declared costs summed), then the
 * captured dispatches are replayed many times per submit and timed from submit to completion, so
 * only GPU work is measured. `npm run bench` runs every declared op's `bench` shapes this way.
 */
import { getDevice } from '../device/device.js';
import { MobilegradError } from '../device/errors.js';
import type { DispatchRecord } from '../device/dispatcher.js';
import type { Op, OpAttrs, OpBenchShape } from '../ops/define-op.js';
import { randn } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

/** One timed unit: the dispatches of a forward or a backward, and what they cost. */
export interface OpBenchPass {
  pass: 'fwd' | 'bwd';
  records: DispatchRecord[];
  /** Declared FLOPs (0 for kernels that declare none; see `costed`). */
  flops: number;
  bytes: number;
  /** False when some kernel of the pass declares no cost. */
  costed: boolean;
}

/** Captured passes of one op at one shape; `dispose()` releases its tensors. */
export interface PreparedOpBench {
  passes: OpBenchPass[];
  dispose(): void;
}

/** A row of {@link benchmarkOp}'s result. */
export interface OpBenchResult {
  name: string;
  label: string;
  pass: 'fwd' | 'bwd';
  /** Median GPU time per run, ms. */
  ms: number;
  dispatches: number;
  kernels: string[];
  flops: number | null;
  bytes: number | null;
  gflops: number | null;
  gbps: number | null;
}

type OpLike = Op | ((...xs: Tensor[]) => Tensor);

/** Runs `fn` capturing its dispatches and summing their declared costs (synchronous). */
function captured<T>(fn: () => T): { result: T; records: DispatchRecord[]; flops: number; bytes: number; costed: boolean } {
  const d = getDevice().dispatcher;
  if (d.observer || d.capturing) throw new MobilegradError('benchmarkOp: cannot run inside mg.profile or another capture');
  let flops = 0;
  let bytes = 0;
  let costed = true;
  d.observer = {
    onDispatch: (kernel, _b, u, _g, _d, constants) => {
      const c = kernel.spec.cost?.(u, constants ?? {});
      if (!c) costed = false;
      flops += c?.flops ?? 0;
      bytes += c?.bytes ?? 0;
      return undefined;
    },
  };
  d.startCapture();
  try {
    const result = fn();
    return { result, records: d.stopCapture(), flops, bytes, costed };
  } catch (e) {
    d.stopCapture();
    throw e;
  } finally {
    d.observer = null;
  }
}

/**
 * Prepares the forward and backward passes of `op` at `shape` (inputs: seeded normal values;
 * f32 inputs require gradients). Synchronous: the benchmark suite calls it per case.
 */
export function prepareOpBench<A extends OpAttrs>(op: OpLike, shape: OpBenchShape<A> | readonly (readonly number[])[], backward = true): PreparedOpBench {
  const made: Tensor[] = [];
  try {
    const names = 'spec' in op ? (op as Op).spec.inputs : null;
    const shapes = Array.isArray(shape) ? (shape as number[][]) : names!.map((n) => (shape as OpBenchShape<A>).inputs[n]!);
    const attrs = Array.isArray(shape) ? undefined : (shape as OpBenchShape<A>).attrs;
    if (shapes.some((s) => !s)) throw new MobilegradError(`benchmarkOp ${op.name}: a bench shape is missing for one of its inputs`);
    const xs = shapes.map((s, i) => randn(s, { seed: 11 + i, requiresGrad: true }));
    made.push(...xs);
    const call = () => (attrs ? (op as (...a: unknown[]) => Tensor)(...xs, attrs) : op(...xs));
    const fwd = captured(call);
    made.push(fwd.result);
    const passes: OpBenchPass[] = [{ pass: 'fwd', records: fwd.records, flops: fwd.flops, bytes: fwd.bytes, costed: fwd.costed }];
    const node = fwd.result.gradFn;
    if (backward && node) {
      const g = randn([...fwd.result.shape], { seed: 99 });
      made.push(g);
      const bwd = captured(() => node.backward(g));
      for (const t of bwd.result) if (t) made.push(t);
      passes.push({ pass: 'bwd', records: bwd.records, flops: bwd.flops, bytes: bwd.bytes, costed: bwd.costed });
    }
    return { passes, dispose: () => made.forEach((t) => t.release()) };
  } catch (e) {
    made.forEach((t) => t.release());
    throw e;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median ms of one replay of `records`: R replays per submit (about `targetMs` of work), `reps` submits. */
export async function timeRecords(records: readonly DispatchRecord[], reps = 5, targetMs = 40): Promise<number> {
  const dev = getDevice();
  const run = async (times: number) => {
    for (let i = 0; i < times; i++) dev.dispatcher.replay(records);
    const t0 = performance.now();
    await dev.sync();
    return (performance.now() - t0) / times;
  };
  await run(1);
  const one = await run(1);
  // The uniform ring holds 4096 launches per submit: stay inside it.
  const per = Math.max(1, Math.min(Math.floor(3000 / Math.max(1, records.length)), 200, Math.ceil(targetMs / Math.max(one, 1e-3))));
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) samples.push(await run(per));
  return median(samples);
}

/**
 * Times `op` (a declared op or any function of tensors) at each shape, forward and backward.
 * Without `shapes`, a declared op's own `bench` shapes are used.
 */
export async function benchmarkOp<A extends OpAttrs>(
  op: OpLike,
  shapes?: readonly (OpBenchShape<A> | readonly (readonly number[])[])[],
  options: { name?: string; backward?: boolean; reps?: number } = {},
): Promise<OpBenchResult[]> {
  const list = shapes ?? ('spec' in op ? ((op as Op).spec.bench as OpBenchShape<A>[] | undefined) : undefined);
  if (!list?.length) throw new MobilegradError(`benchmarkOp ${op.name}: no shapes given and the op declares no bench shapes`);
  const rows: OpBenchResult[] = [];
  for (const s of list) {
    const p = prepareOpBench(op, s, options.backward !== false);
    try {
      await getDevice().sync();
      const label = Array.isArray(s) ? s.map((d) => `[${d.join(',')}]`).join(' ') : ((s as OpBenchShape<A>).label ?? Object.entries((s as OpBenchShape<A>).inputs).map(([k, v]) => `${k}[${v.join(',')}]`).join(' '));
      for (const pass of p.passes) {
        if (!pass.records.length) continue;
        const ms = await timeRecords(pass.records, options.reps);
        const sec = ms / 1000;
        rows.push({
          name: options.name ?? op.name, label, pass: pass.pass, ms, dispatches: pass.records.length, kernels: [...new Set(pass.records.map((r) => r.kernel.name))],
          flops: pass.costed ? pass.flops : null, bytes: pass.costed ? pass.bytes : null,
          gflops: pass.costed ? pass.flops / sec / 1e9 : null, gbps: pass.costed ? pass.bytes / sec / 1e9 : null,
        });
      }
    } finally {
      p.dispose();
    }
  }
  return rows;
}
