/**
 * Running an exported ONNX model with onnxruntime-node, when it is installed (a devDependency:
 * `export` checks itself with it; without it the check says so).
 */
import type { ImageSet } from '../train/evaluate.js';
import { gatherImages } from '../train/evaluate.js';
import { ONNX_INPUT, ONNX_OUTPUT } from './mobilenet-onnx.js';

interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>>;
  release?(): Promise<void>;
}
interface OrtModule {
  InferenceSession: { create(bytes: Uint8Array, options?: object): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

/** onnxruntime-node, or null when it is not installed. */
export async function loadOrt(): Promise<OrtModule | null> {
  try {
    const name = 'onnxruntime-node';
    const m = (await import(/* @vite-ignore */ name)) as OrtModule & { default?: OrtModule };
    return m.InferenceSession ? m : (m.default ?? null);
  } catch {
    return null;
  }
}

/** Logits [idx.length, classes] of an ONNX model for images of `set` (pixels / 255 as float32). */
export async function onnxLogits(ort: OrtModule, model: Uint8Array, set: ImageSet, idx: readonly number[], batchSize = 32): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 2, interOpNumThreads: 1 });
  const s = set.imageSize;
  const chunks: Float32Array[] = [];
  for (let i = 0; i < idx.length; i += batchSize) {
    const b = idx.slice(i, i + batchSize);
    const bytes = gatherImages(set, b);
    const px = Float32Array.from(bytes, (v) => v / 255);
    const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', px, [b.length, s, s, 3]) });
    chunks.push(Float32Array.from(out[ONNX_OUTPUT]!.data));
  }
  await session.release?.();
  const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return all;
}
