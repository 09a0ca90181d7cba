/** Importing torchvision-named safetensors weights: layouts converted, classifier re-initialised for new classes. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as mg from '../src/index.js';
import { f32Tensor, parseSafetensors, serializeSafetensors } from '../src/io/safetensors.js';
import { mobilenetV3Small } from '../src/models/mobilenet-v3.js';
import { exportPyTorchState, loadWeights } from '../src/models/weights.js';
import { parityStateDict } from './support/parity-weights.js';

describe('pretrained weights in torchvision naming', () => {
  beforeAll(async () => {
    await mg.init();
  });

  it('loads a 1000-class torchvision file into a 7-class model and keeps every backbone tensor exactly', async () => {
    const sd = parityStateDict(1000);
    const file = join(mkdtempSync(join(tmpdir(), 'mg-pretrained-')), 'mobilenet_v3_small.safetensors');
    writeFileSync(file, serializeSafetensors([...sd].filter(([k]) => !k.endsWith('num_batches_tracked')).map(([k, v]) => [k, f32Tensor(v.shape, v.data)])));
    const model = mobilenetV3Small({ numClasses: 7 });
    const before = await model.stateTensors().get('classifier.3.weight')!.toArray();
    const report = loadWeights(model, new Uint8Array(readFileSync(file)), file);
    expect(report.naming).toBe('torchvision');
    expect(report.reinitialized.sort()).toEqual(['classifier.3.bias', 'classifier.3.weight']);
    expect(report.missing).toEqual([]);
    expect(report.loaded).toBe(model.stateTensors().size - 2);
    // Every imported tensor comes back bit-identical in PyTorch layout; the new head is untouched.
    const back = new Map(await exportPyTorchState(model));
    for (const [name, t] of back) {
      const src = sd.get(name)!;
      if (name.startsWith('classifier.3.')) continue;
      expect(t.shape, name).toEqual(src.shape);
      expect(Buffer.from(t.data).equals(Buffer.from(src.data.buffer, src.data.byteOffset, src.data.byteLength)), name).toBe(true);
    }
    expect(await model.stateTensors().get('classifier.3.weight')!.toArray()).toEqual(before);
    model.release();
  });

  it('refuses a file that is not MobileNetV3-Small with a clear message', () => {
    const bytes = serializeSafetensors([['encoder.layer.0.weight', f32Tensor([2, 2], new Float32Array([1, 2, 3, 4]))]]);
    const model = mobilenetV3Small({ numClasses: 3 });
    expect(() => loadWeights(model, bytes, 'bert.safetensors')).toThrow(/no tensor matched MobileNetV3-Small/);
    expect(() => loadWeights(model, new Uint8Array([1, 2, 3]), 'junk.bin')).toThrow(/not a safetensors file/);
    model.release();
    expect(parseSafetensors(bytes).tensors.size).toBe(1);
  });
});
