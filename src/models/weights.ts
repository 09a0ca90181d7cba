/**
 * Moving weights between mobilegrad's GPU layouts and PyTorch's (torchvision or timm names),
 * through safetensors. Our names are torchvision's state_dict keys; only layouts differ
 * (see ParamLayout in src/nn/module.ts).
 */
import { MobilegradError } from '../device/errors.js';
import { asFloat32, f32Tensor, parseSafetensors, type SafeTensor } from '../io/safetensors.js';
import type { Module, ParamLayout } from '../nn/module.js';

/** PyTorch's shape for one of our tensors. */
export function pytorchShape(layout: ParamLayout, shape: readonly number[], name: string): number[] {
  switch (layout) {
    case 'hwio':
      return [shape[3]!, shape[2]!, shape[0]!, shape[1]!];
    case 'dw':
      return [shape[2]!, 1, shape[0]!, shape[1]!];
    case 'io1x1':
      return [shape[1]!, shape[0]!, 1, 1];
    case 'io':
      return [shape[1]!, shape[0]!];
    default:
      void name;
      return [...shape];
  }
}

/** Our layout -> PyTorch layout (a permutation of the data). */
export function toPyTorch(layout: ParamLayout, shape: readonly number[], data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  if (layout === 'hwio') {
    const [kh, kw, ci, co] = shape as [number, number, number, number];
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++)
      out[((o * ci + i) * kh + y) * kw + x] = data[((y * kw + x) * ci + i) * co + o]!;
  } else if (layout === 'dw') {
    const [kh, kw, c] = shape as [number, number, number];
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < c; i++) out[(i * kh + y) * kw + x] = data[(y * kw + x) * c + i]!;
  } else if (layout === 'io1x1' || layout === 'io') {
    const [ci, co] = shape as [number, number];
    for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[o * ci + i] = data[i * co + o]!;
  } else out.set(data);
  return out;
}

/** PyTorch layout -> our layout (the inverse of {@link toPyTorch}). */
export function fromPyTorch(layout: ParamLayout, ourShape: readonly number[], data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  if (layout === 'hwio') {
    const [kh, kw, ci, co] = ourShape as [number, number, number, number];
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++)
      out[((y * kw + x) * ci + i) * co + o] = data[((o * ci + i) * kh + y) * kw + x]!;
  } else if (layout === 'dw') {
    const [kh, kw, c] = ourShape as [number, number, number];
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < c; i++) out[(y * kw + x) * c + i] = data[(i * kh + y) * kw + x]!;
  } else if (layout === 'io1x1' || layout === 'io') {
    const [ci, co] = ourShape as [number, number];
    for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[i * co + o] = data[o * ci + i]!;
  } else out.set(data);
  return out;
}

/** Every parameter and buffer of `model` in PyTorch layout and torchvision names (reads the GPU). */
export async function exportPyTorchState(model: Module): Promise<[string, SafeTensor][]> {
  const layouts = model.parameterLayouts();
  const out: [string, SafeTensor][] = [];
  for (const [name, t] of model.stateTensors()) {
    const layout = layouts.get(name) ?? 'same';
    const data = (await t.toArray()) as Float32Array;
    out.push([name, f32Tensor(pytorchShape(layout, t.shape, name), toPyTorch(layout, t.shape, data))]);
  }
  return out;
}

/** timm `mobilenetv3_small_100` key -> torchvision key (null for keys with no counterpart). */
export function timmToTorchvision(key: string): string | null {
  const stageStarts = [1, 2, 4, 7, 9, 12]; // first torchvision feature index of each timm stage
  let m = key.match(/^conv_stem\.weight$/);
  if (m) return 'features.0.0.weight';
  m = key.match(/^bn1\.(.+)$/);
  if (m) return `features.0.1.${m[1]}`;
  m = key.match(/^conv_head\.(weight|bias)$/);
  if (m) return `classifier.0.${m[1]}`;
  m = key.match(/^classifier\.(weight|bias)$/);
  if (m) return `classifier.3.${m[1]}`;
  m = key.match(/^blocks\.(\d+)\.(\d+)\.(.+)$/);
  if (!m) return null;
  const f = stageStarts[Number(m[1])]! + Number(m[2]);
  const rest = m[3]!;
  if (f === 12) {
    const r = rest.match(/^(conv|bn1)\.(.+)$/);
    return r ? `features.12.${r[1] === 'conv' ? '0' : '1'}.${r[2]}` : null;
  }
  const hasExpand = f !== 1;
  const se = ![2, 3].includes(f);
  const idx = { expand: 0, dw: hasExpand ? 1 : 0, se: hasExpand ? 2 : 1, project: hasExpand ? (se ? 3 : 2) : se ? 2 : 1 };
  const table: [RegExp, (x: RegExpMatchArray) => string][] = f === 1
    ? [
        [/^conv_dw\.weight$/, () => `${idx.dw}.0.weight`],
        [/^bn1\.(.+)$/, (x) => `${idx.dw}.1.${x[1]}`],
        [/^se\.conv_reduce\.(.+)$/, (x) => `${idx.se}.fc1.${x[1]}`],
        [/^se\.conv_expand\.(.+)$/, (x) => `${idx.se}.fc2.${x[1]}`],
        [/^conv_pw\.weight$/, () => `${idx.project}.0.weight`],
        [/^bn2\.(.+)$/, (x) => `${idx.project}.1.${x[1]}`],
      ]
    : [
        [/^conv_pw\.weight$/, () => `${idx.expand}.0.weight`],
        [/^bn1\.(.+)$/, (x) => `${idx.expand}.1.${x[1]}`],
        [/^conv_dw\.weight$/, () => `${idx.dw}.0.weight`],
        [/^bn2\.(.+)$/, (x) => `${idx.dw}.1.${x[1]}`],
        [/^se\.conv_reduce\.(.+)$/, (x) => `${idx.se}.fc1.${x[1]}`],
        [/^se\.conv_expand\.(.+)$/, (x) => `${idx.se}.fc2.${x[1]}`],
        [/^conv_pwl\.weight$/, () => `${idx.project}.0.weight`],
        [/^bn3\.(.+)$/, (x) => `${idx.project}.1.${x[1]}`],
      ];
  for (const [re, fn] of table) {
    const x = rest.match(re);
    if (x) return `features.${f}.block.${fn(x)}`;
  }
  return null;
}

export interface LoadReport {
  loaded: number;
  /** Tensors of the model that the file did not provide (left as initialised). */
  missing: string[];
  /** Tensors skipped because their shape differs (a new classifier for another class count). */
  reinitialized: string[];
  naming: 'torchvision' | 'timm';
}

/**
 * Loads PyTorch-layout weights (torchvision or timm names) into `model`. A classifier whose class
 * count differs keeps its fresh initialisation (fine-tuning on new classes).
 */
export function loadPyTorchState(model: Module, tensors: Map<string, SafeTensor>, what = 'weights'): LoadReport {
  const timm = [...tensors.keys()].some((k) => k.startsWith('conv_stem.') || k.startsWith('blocks.'));
  const byName = new Map<string, SafeTensor>();
  for (const [k, v] of tensors) {
    if (k.endsWith('num_batches_tracked')) continue;
    const name = timm ? timmToTorchvision(k) : k;
    if (name) byName.set(name, v);
  }
  const layouts = model.parameterLayouts();
  const report: LoadReport = { loaded: 0, missing: [], reinitialized: [], naming: timm ? 'timm' : 'torchvision' };
  for (const [name, t] of model.stateTensors()) {
    const src = byName.get(name);
    if (!src) {
      report.missing.push(name);
      continue;
    }
    const layout = layouts.get(name) ?? 'same';
    let ptShape = pytorchShape(layout, t.shape, name);
    // timm stores the head's first linear as a 1x1 conv.
    if (src.shape.length === 4 && ptShape.length === 2 && src.shape[2] === 1 && src.shape[3] === 1) ptShape = [...ptShape, 1, 1];
    if (src.shape.join() !== ptShape.join()) {
      if (name.startsWith('classifier.3.')) {
        report.reinitialized.push(name);
        continue;
      }
      throw new MobilegradError(`${what}: '${name}' has shape [${src.shape}], the model expects [${ptShape}] (is this MobileNetV3-Small with the same width?)`);
    }
    const data = fromPyTorch(layout, t.shape, asFloat32(src, name));
    model.loadTensor(name, data);
    report.loaded++;
  }
  if (report.loaded === 0) throw new MobilegradError(`${what}: no tensor matched MobileNetV3-Small's names (torchvision or timm mobilenetv3_small_100)`);
  return report;
}

/** Reads a safetensors file's bytes and loads them into `model` (`mg.loadWeights`). */
export function loadWeights(model: Module, bytes: Uint8Array, what = 'weights file'): LoadReport {
  return loadPyTorchState(model, parseSafetensors(bytes, what).tensors, what);
}
