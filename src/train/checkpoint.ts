/**
 * Training checkpoints: model tensors, optimizer state and the run's position (epoch, step, random
 * streams, history) in ONE safetensors blob. Platform-neutral: the Node trainer writes it to a
 * temporary file and renames it (a run killed at any moment keeps the previous checkpoint), the
 * browser keeps it in OPFS.
 */
import { MobilegradError } from '../device/errors.js';
import { asFloat32, f32Tensor, parseSafetensors, serializeSafetensors, type SafeTensor } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import type { Optimizer, OptimizerStateDict } from '../optim/optimizer.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';

/** Where the run stands; stored as JSON in the file's metadata. */
export interface RunPosition {
  /** Epoch to run next (0-based) and the first step within it (non-zero after Ctrl-C). */
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  /** State of the global generator (dropout seeds) and of the augmentation generator. */
  globalRngState: number;
  augRngState: number;
  history: Record<string, number>[];
  /** The options the run was started with (resume checks them). */
  options: Record<string, unknown>;
  classes: string[];
  elapsedSeconds: number;
  /** Loss and accuracy sums of the interrupted epoch so far (stepInEpoch > 0), so it reports the whole epoch. */
  partial?: { lossSum: number; correct: number; seen: number };
}

/** Serialises model, optimizer and position (reads the GPU). */
export async function encodeCheckpoint(model: Module, optimizer: Optimizer, position: RunPosition): Promise<Uint8Array> {
  const tensors: [string, SafeTensor][] = [];
  for (const [name, t] of model.stateTensors()) tensors.push([`model.${name}`, f32Tensor([...t.shape], (await t.toArray()) as Float32Array)]);
  const opt = await optimizer.stateDict();
  const optMeta = { kind: opt.kind, step: opt.step, groups: opt.groups, params: opt.params.map((p) => (p ? { step: p.step, buffers: Object.keys(p.buffers) } : null)) };
  opt.params.forEach((p, i) => {
    if (p) for (const [b, data] of Object.entries(p.buffers)) tensors.push([`optim.${i}.${b}`, f32Tensor([data.length], data)]);
  });
  return serializeSafetensors(tensors, { position: JSON.stringify(position), optimizer: JSON.stringify(optMeta) });
}

/** Restores `model` and `optimizer` from a checkpoint blob and returns the position to continue from. */
export function decodeCheckpoint(bytes: Uint8Array, model: Module, optimizer: Optimizer, what = 'checkpoint'): RunPosition {
  const { tensors, metadata } = parseSafetensors(bytes, what);
  if (!metadata.position || !metadata.optimizer) throw new MobilegradError(`${what} is not a mobilegrad training checkpoint`);
  for (const [name, t] of model.stateTensors()) {
    const src = tensors.get(`model.${name}`);
    if (!src || src.shape.join() !== t.shape.join()) throw new MobilegradError(`${what} does not match the model ('${name}'): was it written for other classes or options?`);
    model.loadTensor(name, asFloat32(src, name));
  }
  const meta = JSON.parse(metadata.optimizer) as { kind: string; step: number; groups: OptimizerStateDict['groups']; params: ({ step: number; buffers: string[] } | null)[] };
  const dict: OptimizerStateDict = {
    kind: meta.kind,
    step: meta.step,
    groups: meta.groups,
    params: meta.params.map((p, i) => {
      if (!p) return null;
      const buffers: Record<string, Float32Array> = {};
      for (const b of p.buffers) {
        const t = tensors.get(`optim.${i}.${b}`);
        if (!t) throw new MobilegradError(`${what}: optimizer state ${i}.${b} missing`);
        buffers[b] = asFloat32(t, b);
      }
      return { step: p.step, buffers };
    }),
  };
  optimizer.loadStateDict(dict);
  return JSON.parse(metadata.position) as RunPosition;
}
