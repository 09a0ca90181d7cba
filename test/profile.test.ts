/**
 * mg.profile: every dispatch of a training step timed on the GPU (timestamp-query) or by waiting
 * on each one (without it, the re-runs leaving every tensor as it was), the per-kernel table with
 * FLOPs and bytes from declared costs, the Chrome trace.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';

beforeAll(async () => {
  await mg.init();
});

function tinyStep(seed: number) {
  mg.seed(seed);
  const model = mg.models.mobilenetV3Small({ numClasses: 5, widthMultiplier: 0.5 });
  const opt = new mg.AdamW(model.parameters(), { lr: 0.01 });
  const x = mg.randn([2, 32, 32, 3], { seed: seed + 1 });
  const y = mg.tensor(Int32Array.from([1, 3]), [2]);
  const step = () =>
    mg.tidy(() => {
      const l = mg.softmaxCrossEntropy(model.call(x), y);
      void l.backward();
      opt.step();
      opt.zeroGrad();
      return l;
    });
  const dispose = () => {
    model.release();
    opt.dispose();
    x.release();
    y.release();
  };
  return { model, step, dispose };
}

describe('profile', () => {
  it('times every dispatch of a training step with GPU timestamps; table, costs, trace agree', async () => {
    expect(mg.getDevice().has('timestamp-query')).toBe(true); // lavapipe and SwiftShader have it
    const { step, dispose } = tinyStep(1);
    step().release(); // compile first
    await mg.measureRoofline(); // measured once per device, before the profiled dispatches
    const before = mg.memoryStats().dispatches;
    const r = await mg.profile(step, { label: 'one step' });
    const issued = mg.memoryStats().dispatches - before;
    r.result.release();
    expect(r.mode).toBe('timestamp-query');
    expect(r.dispatches.length).toBe(issued);
    expect(r.dispatches.filter((d) => d.durationNs > 0).length).toBeGreaterThan(issued * 0.9);
    expect(r.gpuMs).toBeGreaterThan(0);
    expect(r.gpuMs).toBeLessThan(r.wallMs * 1.05);
    // GPU start times increase in stream order.
    for (let i = 1; i < r.dispatches.length; i++) expect(r.dispatches[i]!.startNs).toBeGreaterThanOrEqual(r.dispatches[i - 1]!.startNs);
    const rows = new Map(r.kernels.map((k) => [k.kernel, k]));
    expect(r.kernels.reduce((s, k) => s + k.calls, 0)).toBe(issued);
    expect(r.kernels.reduce((s, k) => s + k.gpuMs, 0)).toBeCloseTo(r.gpuMs, 6);
    // Costs: the activations' FLOPs are one per element of every call.
    const act = r.dispatches.filter((d) => d.kernel.name === 'activation.forward');
    expect(act.length).toBeGreaterThan(0);
    expect(rows.get('activation.forward')!.flops).toBe(act.reduce((s, d) => s + d.uniforms.n!, 0));
    const gemm = rows.get('gemm')!;
    expect(gemm.flops).toBeGreaterThan(0);
    expect(gemm.rooflinePct).toBeGreaterThan(0);
    expect(r.roofline!.gflops).toBeGreaterThan(0.1);
    expect(r.roofline!.gbps).toBeGreaterThan(0.01);
    const table = r.table();
    expect(table).toMatch(/^one step: \d+ dispatches, GPU [\d.]+ ms/);
    expect(table).toMatch(/\ngemm +\d+ +[\d.]+ +[\d.]+% /);
    // The trace: one span per dispatch, parseable JSON, per-kernel sums as in the table.
    const trace = JSON.parse(JSON.stringify(r.trace())) as mg.ChromeTrace;
    const spans = trace.traceEvents.filter((e) => e.ph === 'X') as { name: string; dur: number }[];
    expect(spans.length).toBe(issued);
    const gemmUs = spans.filter((e) => e.name === 'gemm').reduce((s, e) => s + e.dur, 0);
    expect(gemmUs / 1e3).toBeCloseTo(gemm.gpuMs, 6);
    expect(mg.traceSummary(trace)).toMatch(new RegExp(`${issued} GPU dispatch spans`));
    dispose();
  });

  it('nothing is profiled outside the call, and profiles do not nest', async () => {
    expect(mg.getDevice().dispatcher.observer).toBeNull();
    let inner: Promise<string> | null = null;
    const r = await mg.profile(() => {
      inner = mg.profile(() => 0).then(() => 'nested profile ran', (e: Error) => e.message);
      return mg.add(mg.ones([3]), 1);
    }, { roofline: false });
    expect(await inner!).toMatch(/already running/);
    expect(r.dispatches.length).toBe(1);
    expect(r.roofline).toBeNull();
    r.result.release();
  });

  it('wait mode times each dispatch alone and leaves every result as an unprofiled run gives', async () => {
    const a = tinyStep(7);
    const b = tinyStep(7);
    // Dropout draws its seed from the global generator: the same state before each step.
    mg.seed(100);
    const la = a.step();
    mg.seed(100);
    const r = await mg.profile(b.step, { mode: 'wait', roofline: false });
    expect(r.mode).toBe('wait');
    expect(r.dispatches.length).toBeGreaterThan(100);
    expect(r.dispatches.filter((d) => d.durationNs > 0).length).toBeGreaterThan(r.dispatches.length * 0.9);
    expect(await r.result.item()).toBe(await la.item());
    // Parameters and optimizer state after the profiled step equal the unprofiled ones, bit for bit.
    const pa = a.model.parameters();
    const pb = b.model.parameters();
    for (let i = 0; i < pa.length; i++) expect(Array.from(await pb[i]!.toArray()), `parameter ${i}`).toEqual(Array.from(await pa[i]!.toArray()));
    mg.seed(101);
    const ia = a.step();
    mg.seed(101);
    const ib = b.step();
    expect(await ib.item()).toBe(await ia.item());
    [la, r.result, ia, ib].forEach((t) => t.release());
    a.dispose();
    b.dispose();
  });

  // Last: opens a device without timestamp-query.
  it("without 'timestamp-query' the profiler waits on each dispatch", async () => {
    await mg.init({ reopen: true, disableFeatures: ['timestamp-query'] });
    expect(mg.getDevice().has('timestamp-query')).toBe(false);
    const x = mg.randn([64, 33], { seed: 3 });
    const w = mg.randn([33, 17], { seed: 4 });
    await expect(mg.profile(() => mg.matmul(x, w), { mode: 'timestamp-query' })).rejects.toThrow(/no 'timestamp-query'/);
    const r = await mg.profile(() => mg.matmul(x, w));
    expect(r.mode).toBe('wait');
    expect(r.kernels.map((k) => k.kernel)).toContain('gemm');
    expect(r.kernels.find((k) => k.kernel === 'gemm')!.flops).toBe(2 * 64 * 33 * 17);
    [x, w, r.result].forEach((t) => t.release());
  });
});
