/**
 * The device layer: one WebGPU adapter and device, its buffer pool and its dispatcher.
 * Everything above (tensors, ops, autograd, nn) reaches the GPU only through `getDevice()`.
 */
import { BufferPool, type PoolStats } from './buffer-pool.js';
import { Dispatcher, type DispatchCounters } from './dispatcher.js';
import { MobilegradError } from './errors.js';
import { findGPU } from './gpu-provider.js';
import { enableGentleWait, gentleWait } from './gpu-wait.js';

/** Options for {@link init}. */
export interface InitOptions {
  /** Prefer a low-power or high-performance adapter where there are several. */
  powerPreference?: GPUPowerPreference;
  /** Extra Dawn toggles in Node (for example `backend=opengl`). */
  dawnOptions?: string[];
  /** Features to leave off even where the adapter has them (to test fallbacks). */
  disableFeatures?: string[];
  /**
   * Open a new device even if one is open (after the device was lost, or to change features).
   * Tensors made on the previous device stay bound to it and cannot be used with the new one.
   */
  reopen?: boolean;
  /**
   * How Node waits for the GPU (ignored in browsers). `sleep` (default): poll Dawn every
   * millisecond after the first 0.25 ms, so the waiting thread leaves the CPU to the driver (on a
   * CPU adapter such as lavapipe, 1.4-2x faster steps; src/device/gpu-wait.ts). `spin`: Dawn's own
   * back-to-back `setImmediate` polling, the lowest latency for very short waits.
   */
  wait?: 'sleep' | 'spin';
}

/** What {@link init} found: the adapter, the features and limits the device was given. */
export interface DeviceReport {
  runtime: 'node' | 'browser';
  adapter: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter: boolean };
  features: string[];
  wgslLanguageFeatures: string[];
  limits: Record<string, number>;
}

// The limits a training step at batch 128 x 224 px needs beyond WebGPU's defaults.
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
] as const;
const WANTED_FEATURES = ['shader-f16', 'timestamp-query', 'subgroups'] as const;

export const NO_ADAPTER_HELP =
  'No WebGPU adapter found. On Linux without a GPU install Mesa\'s lavapipe (Debian bookworm: ' +
  '`apt-get install -t bookworm-backports mesa-vulkan-drivers`, Mesa 25 or newer; or run `bash scripts/setup-system.sh`); ' +
  'with a GPU install its Vulkan driver. In a browser use Chrome/Edge 113+ (or Chromium with --enable-unsafe-webgpu).';

let nextDeviceId = 1;

export class Device {
  /** Which device this is (1 for the first `init`); tensors remember it. */
  readonly id = nextDeviceId++;
  readonly pool: BufferPool;
  readonly dispatcher: Dispatcher;
  private lostReason: string | null = null;

  constructor(
    readonly gpu: GPU,
    readonly adapter: GPUAdapter,
    readonly device: GPUDevice,
    readonly report: DeviceReport,
  ) {
    this.pool = new BufferPool(device, device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.dispatcher = new Dispatcher(device);
    void device.lost.then((info) => {
      this.lostReason = info.message || String(info.reason);
    });
  }

  /** True if the adapter granted this optional feature. */
  has(feature: string): boolean {
    return this.device.features.has(feature);
  }

  /**
   * Fills every buffer handed out from now on with NaN (or stops, with `false`), so a kernel that
   * leaves part of its output unwritten fails its test instead of passing on stale data.
   */
  poisonOutputs(on: boolean): void {
    this.pool.onAcquire = on
      ? (pb) => {
          const words = new Uint32Array(pb.capacity / 4).fill(0x7fc00000);
          this.write(pb.buffer, words);
        }
      : null;
  }

  /**
   * Uploads bytes into a pooled buffer, after any queued work that may still use it. `regen`
   * marks a per-step value: while a step is being recorded, a replay calls it for fresh bytes
   * (same length) instead of repeating these.
   */
  write(buffer: GPUBuffer, data: ArrayBufferView, offset = 0, regen?: () => ArrayBufferView): void {
    this.assertAlive();
    if (this.dispatcher.capturing) this.dispatcher.captureWrite(buffer, offset, data, regen ?? null);
    // queue.writeBuffer runs before commands not yet submitted; submit them first so a reused
    // buffer is not overwritten under a kernel that still reads its previous contents.
    if (this.dispatcher.pending) this.dispatcher.flush();
    this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Reads `bytes` bytes back to the CPU: the only place where the CPU waits on the GPU. */
  async read(buffer: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    this.assertAlive();
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({ size: Math.max(size, 4), usage: 0x01 | 0x08, label: 'readback' });
    this.dispatcher.copy(buffer, offset, staging, 0, size);
    this.dispatcher.flush();
    this.dispatcher.counters.readbacks++;
    try {
      await gentleWait(() => staging.mapAsync(1));
      const out = staging.getMappedRange(0, size).slice(0, bytes);
      staging.unmap();
      await gentleWait(() => this.dispatcher.checkErrors());
      return out;
    } catch (e) {
      await this.dispatcher.checkErrors();
      if (this.lostReason) throw new MobilegradError(`the GPU device was lost: ${this.lostReason}`);
      throw e;
    } finally {
      staging.destroy();
    }
  }

  /** Submits queued work and waits until the GPU finished it; throws any GPU error it raised. */
  async sync(): Promise<void> {
    this.dispatcher.flush();
    await gentleWait(() => this.device.queue.onSubmittedWorkDone());
    await gentleWait(() => this.dispatcher.checkErrors());
  }

  stats(): PoolStats & DispatchCounters {
    return { ...this.pool.stats(), ...this.dispatcher.counters };
  }

  private assertAlive(): void {
    if (this.lostReason) throw new MobilegradError(`the GPU device was lost: ${this.lostReason}`);
  }
}

let current: Device | null = null;

/**
 * Opens the WebGPU device: picks the adapter, asks for its real limits (not WebGPU's small
 * defaults) and the optional features mobilegrad can use, and reports what it got.
 * Calling it again returns the same device.
 */
export async function init(options: InitOptions = {}): Promise<DeviceReport> {
  if (current && !options.reopen) return current.report;
  const { gpu, runtime } = await findGPU(options.dawnOptions);
  enableGentleWait(runtime === 'node' && options.wait !== 'spin');
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference });
  if (!adapter) throw new MobilegradError(NO_ADAPTER_HELP);
  const skip = new Set(options.disableFeatures ?? []);
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f) && !skip.has(f)) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  const al = adapter.limits as unknown as Record<string, number>;
  for (const name of WANTED_LIMITS) if (typeof al[name] === 'number') requiredLimits[name] = al[name];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'mobilegrad' });
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const limits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) limits[name] = (device.limits as unknown as Record<string, number>)[name]!;
  const report: DeviceReport = {
    runtime,
    adapter: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
      isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    },
    features: [...device.features].map(String).sort(),
    wgslLanguageFeatures: [...(gpu.wgslLanguageFeatures ?? [])].map(String).sort(),
    limits,
  };
  current = new Device(gpu, adapter, device, report);
  return report;
}

/** The open device; throws a clear error before `await mg.init()`. */
export function getDevice(): Device {
  if (!current) throw new MobilegradError('mobilegrad has no GPU device yet: call `await mg.init()` first.');
  return current;
}

/** True once {@link init} has succeeded. */
export function hasDevice(): boolean {
  return current !== null;
}
