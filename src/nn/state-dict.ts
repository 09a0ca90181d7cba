/**
 * `state_dict`-style saving and loading of any Module as safetensors bytes: every parameter and
 * buffer under its dotted name, in PyTorch's layout (OIHW convolutions, [out, in] linears), so a
 * file saved here loads into the matching PyTorch module with `load_state_dict` and back.
 */
import { MobilegradError } from '../device/errors.js';
import { asFloat32, f32Tensor, parseSafetensors, serializeSafetensors, type SafeTensor } from '../io/safetensors.js';
import { fromPyTorch, pytorchShape, toPyTorch } from '../models/weights.js';
import type { Module } from './module.js';

/** What {@link loadStateDict} did. */
export interface StateDictLoadReport {
  /** Tensors loaded, by name. */
  loaded: string[];
  /** Tensors of the module that the file lacks (kept as they were). */
  missing: string[];
  /** Names in the file that the module does not have. */
  unexpected: string[];
}

/** Options of {@link loadStateDict}. */
export interface LoadStateDictOptions {
  /** Refuse missing or unexpected names (default true, as PyTorch). */
  strict?: boolean;
  /** Name of the source, for error messages. */
  what?: string;
}

/** Every parameter and buffer of `module` as safetensors bytes (reads the GPU). */
export async function saveStateDict(module: Module, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  const layouts = module.parameterLayouts();
  const out: [string, SafeTensor][] = [];
  for (const [name, t] of module.stateTensors()) {
    if (t.dtype !== 'f32') throw new MobilegradError(`saveStateDict: '${name}' is ${t.dtype}; state dicts hold f32 tensors`);
    const layout = layouts.get(name) ?? 'same';
    const data = (await t.toArray()) as Float32Array;
    out.push([name, f32Tensor(pytorchShape(layout, t.shape, name), toPyTorch(layout, t.shape, data))]);
  }
  return serializeSafetensors(out, { format: 'mobilegrad-state-dict', layout: 'pytorch', ...metadata });
}

/**
 * Loads safetensors bytes saved by {@link saveStateDict} (or by PyTorch from the same
 * architecture) into `module`, in place: parameters keep their identity, so optimizers and hooks
 * holding them stay valid. Every shape is checked before anything is written.
 */
export function loadStateDict(module: Module, bytes: Uint8Array, options: LoadStateDictOptions = {}): StateDictLoadReport {
  const what = options.what ?? 'state dict';
  const { tensors } = parseSafetensors(bytes, what);
  const layouts = module.parameterLayouts();
  const own = module.stateTensors();
  const report: StateDictLoadReport = { loaded: [], missing: [], unexpected: [] };
  for (const name of tensors.keys()) if (!own.has(name) && !name.endsWith('num_batches_tracked')) report.unexpected.push(name);
  const plan: [string, Float32Array][] = [];
  for (const [name, t] of own) {
    const src = tensors.get(name);
    if (!src) {
      report.missing.push(name);
      continue;
    }
    const layout = layouts.get(name) ?? 'same';
    const want = pytorchShape(layout, t.shape, name);
    if (src.shape.join() !== want.join()) throw new MobilegradError(`${what}: '${name}' has shape [${src.shape.join(', ')}], the module expects [${want.join(', ')}] (PyTorch layout)`);
    plan.push([name, fromPyTorch(layout, t.shape, asFloat32(src, name))]);
  }
  if (options.strict !== false && (report.missing.length || report.unexpected.length)) {
    const list = (xs: string[]) => xs.slice(0, 5).join(', ') + (xs.length > 5 ? `, ... (${xs.length})` : '');
    throw new MobilegradError(
      `${what} does not match the module:${report.missing.length ? ` missing ${list(report.missing)};` : ''}${report.unexpected.length ? ` unexpected ${list(report.unexpected)};` : ''} pass { strict: false } to load the names that match`,
    );
  }
  for (const [name, data] of plan) {
    module.loadTensor(name, data);
    report.loaded.push(name);
  }
  return report;
}
