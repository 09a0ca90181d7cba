/**
 * Which int8 helpers an int8 kernel is compiled with: the native built-ins (`dot4I8Packed`,
 * `unpack4xI8`, `pack4xI8`) where the adapter reports the WGSL language feature
 * `packed_4x8_integer_dot_product`, shifts and masks otherwise. Every int8 kernel is declared
 * twice, once per path; tests force the fallback on adapters that have the feature, so both
 * paths are checked on every adapter.
 */
import fallbackHelpers from '../shaders/int8-fallback.wgsl';
import nativeHelpers from '../shaders/int8-native.wgsl';
import requant from '../shaders/int8-requant.wgsl';
import { getDevice } from '../src/device/device.js';
import { defineKernel, type Kernel, type KernelSpec } from '../src/kernel/define-kernel.js';

export type Int8Path = 'native' | 'fallback';

/** The WGSL language feature that brings dot4I8Packed and the pack/unpack built-ins. */
export const PACKED_DOT_FEATURE = 'packed_4x8_integer_dot_product';

let forced: Int8Path | null = null;

/** Forces one path for every int8 kernel launched from now on (`null`: pick from the adapter). */
export function setInt8Path(path: Int8Path | null): void {
  forced = path;
}

/** The path int8 kernels use now: forced, or native where the adapter has the feature. */
export function int8Path(): Int8Path {
  if (forced) return forced;
  return getDevice().report.wgslLanguageFeatures.includes(PACKED_DOT_FEATURE) ? 'native' : 'fallback';
}

/** A kernel declared for both paths; `get()` returns the one to launch now. */
export interface Int8Kernel {
  native: Kernel;
  fallback: Kernel;
  get(): Kernel;
}

/** Declares `spec` twice, its WGSL body prefixed with each path's helpers and the requantization. */
export function defineInt8Kernel(spec: KernelSpec): Int8Kernel {
  const native = defineKernel({ ...spec, name: `${spec.name}_native`, source: `${nativeHelpers}\n${requant}\n${spec.source}` });
  const fallback = defineKernel({ ...spec, name: `${spec.name}_fallback`, source: `${fallbackHelpers}\n${requant}\n${spec.source}` });
  return { native, fallback, get: () => (int8Path() === 'native' ? native : fallback) };
}
