/**
 * The whole int8 network on the CPU, step by step from the plan, with the per-kernel references
 * of int8-reference.ts (exact integers; float32 steps emulated), for end-to-end checks of the
 * GPU int8 model in Node and in Chromium. No test-runner imports.
 */
import { inputTable, layerKernelParams } from '../../src/quant/kernel-params.js';
import { LOGITS, planSteps } from '../../src/quant/net-plan.js';
import type { QuantizedNet } from '../../src/quant/quantize.js';
import { convRef, gemmRef, poolRef, seScaleRef } from './int8-reference.js';

interface Value {
  data: ArrayLike<number>;
  shape: number[];
}

/** Logits [n, classes] for 8-bit RGB images [n, size, size, 3]. */
export function int8NetReference(net: QuantizedNet, bytes: Uint8Array, n: number, size: number): Float64Array {
  const pin = net.activations.get('input')!;
  const table = inputTable(pin);
  const x = new Int32Array(n * size * size * 4);
  for (let p = 0; p < n * size * size; p++) {
    for (let c = 0; c < 3; c++) x[p * 4 + c] = table[c * 256 + bytes[p * 3 + c]!]!;
    x[p * 4 + 3] = pin.zeroPoint;
  }
  const values = new Map<string, Value>([['input', { data: x, shape: [n, size, size, 4] }]]);
  for (const s of planSteps(net.plan)) {
    if (s.op === 'pool') {
      const v = values.get(s.input)!;
      const [b, h, w, c] = v.shape as [number, number, number, number];
      const px = net.activations.get(s.input)!;
      const py = net.activations.get(s.output)!;
      values.set(s.output, { data: poolRef(v.data, b, h * w, c, px.zeroPoint, py.zeroPoint, Math.fround(px.scale / (h * w * py.scale))), shape: [b, c] });
    } else if (s.op === 'se_scale') {
      const v = values.get(s.input)!;
      const [b, h, w, c] = v.shape as [number, number, number, number];
      const px = net.activations.get(s.input)!;
      const pg = net.activations.get(s.gate)!;
      const py = net.activations.get(s.output)!;
      const q = { zx: px.zeroPoint, zg: pg.zeroPoint, zp: py.zeroPoint, mult: Math.fround((px.scale * pg.scale) / py.scale) };
      values.set(s.output, { data: seScaleRef(v.data, values.get(s.gate)!.data, b, h * w, c, q), shape: v.shape });
    } else {
      const p = layerKernelParams(net, s);
      const l = s.layer;
      const v = values.get(s.input)!;
      const r = { bias: p.bias, mult: p.mult, table: p.table, zp: p.zp, lo: p.lo };
      if (l.kind === 'stem' || l.kind === 'depthwise') {
        const o = convRef(v.data, v.shape as [number, number, number, number], p.weight, l.kernel, l.stride, l.cout, l.kind === 'depthwise', p.zx, r);
        values.set(s.output, { data: o.out, shape: [v.shape[0]!, o.ho, o.wo, l.cout] });
      } else {
        const k = v.shape[v.shape.length - 1]!;
        const m = v.data.length / k;
        const res = s.residual && p.residual ? { x: values.get(s.residual)!.data, zp: p.residual.zp, mult: p.residual.mult } : undefined;
        values.set(s.output, { data: gemmRef(v.data, p.weight, m, k, l.cout, r, { floatOut: p.floatOut, res }), shape: [...v.shape.slice(0, -1), l.cout] });
      }
    }
  }
  return Float64Array.from(values.get(LOGITS)!.data);
}
