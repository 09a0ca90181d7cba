/**
 * Finds a WebGPU implementation: `navigator.gpu` in browsers and workers, the `webgpu` npm package
 * (Dawn) in Node. Nothing above this module knows which one it got.
 */

// Dawn's GPU object must stay reachable for the whole process: if V8 collects it, the next
// dispatch crashes the process (see docs/architecture.md). A module-level reference does that.
let nodeGPU: GPU | null = null;

export interface GPUSource {
  gpu: GPU;
  runtime: 'browser' | 'node';
}

export async function findGPU(dawnOptions: string[] = []): Promise<GPUSource> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, runtime: 'browser' };
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) {
    throw new Error(
      'This browser exposes no WebGPU (navigator.gpu is missing). Use Chrome/Edge 113+ or Chromium with ' +
        '--enable-unsafe-webgpu, on a page served over https or from localhost.',
    );
  }
  if (!nodeGPU) {
    // A computed specifier keeps browser bundlers from trying to include the native module.
    const specifier = 'webgpu';
    const mod = (await import(/* @vite-ignore */ specifier)) as {
      create: (opts: string[]) => GPU;
      globals: Record<string, unknown>;
    };
    Object.assign(globalThis, mod.globals);
    // Dawn rounds GPU timestamps to 65.5 us by default (a browser's defence against timing attacks);
    // in Node the profiler wants them exact.
    nodeGPU = mod.create(['disable-dawn-features=timestamp_quantization', ...dawnOptions]);
    (globalThis as { __mobilegradGPU?: GPU }).__mobilegradGPU = nodeGPU;
  }
  return { gpu: nodeGPU, runtime: 'node' };
}
