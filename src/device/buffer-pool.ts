/**
 * Size-bucketed pool of storage buffers. A tensor takes a buffer from the pool and gives it back
 * when released; the next tensor of a similar size reuses it, so a training loop allocates GPU
 * memory only during its first steps. Every acquire/release can be logged, which is what a static
 * memory plan (issue 5) is built from.
 */

/** A GPU buffer owned by the pool, with a stable id used in bind-group cache keys. */
export interface PooledBuffer {
  readonly id: number;
  readonly buffer: GPUBuffer;
  /** Bytes of the bucket (the GPU allocation), at least the requested size. */
  readonly capacity: number;
  /** Bytes the current user asked for. */
  requested: number;
  inUse: boolean;
  /** Counts the times the pool handed this buffer out: a recording notices a buffer that changed hands. */
  generation: number;
  /** Held by a static memory plan (a recorded step): not in the free lists, not handed out. */
  reserved: boolean;
}

export interface PoolStats {
  /** Buffers currently held by tensors. */
  liveBuffers: number;
  /** Bytes requested by the tensors holding them. */
  liveBytes: number;
  /** Bytes of GPU memory the pool has allocated, free or not. */
  allocatedBytes: number;
  /** Highest allocatedBytes seen. */
  peakAllocatedBytes: number;
  /** Buffers created from scratch (pool misses). */
  created: number;
  /** Buffers and bytes (bucket capacity) held by static memory plans (recorded steps). */
  reservedBuffers: number;
  reservedBytes: number;
}

const USAGE_STORAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST

/** Rounds up to 2^k * {1, 1.25, 1.5, 1.75}: at most 25 % waste, few distinct buckets. */
export function bucketSize(bytes: number, maxBinding: number): number {
  const b = Math.max(256, Math.ceil(bytes / 4) * 4);
  const p = 2 ** Math.floor(Math.log2(b));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) {
    const size = p * f;
    if (size >= b) return size > maxBinding && b <= maxBinding ? b : size;
  }
  return b;
}

export class BufferPool {
  private free = new Map<number, PooledBuffer[]>();
  private nextId = 1;
  private stats_: PoolStats = { liveBuffers: 0, liveBytes: 0, allocatedBytes: 0, peakAllocatedBytes: 0, created: 0, reservedBuffers: 0, reservedBytes: 0 };
  /** When set, every acquire and release is appended here (for memory planning and leak hunts). */
  log: { op: 'acquire' | 'release'; id: number; bytes: number; pb: PooledBuffer }[] | null = null;
  private owners = new Map<GPUBuffer, PooledBuffer>();
  /** Called on every buffer handed out; tests use it to poison outputs with NaN before a kernel runs. */
  onAcquire: ((pb: PooledBuffer) => void) | null = null;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBinding: number,
    private readonly maxBufferSize: number,
  ) {}

  acquire(bytes: number, label: string): PooledBuffer {
    if (bytes > this.maxBinding) {
      throw new RangeError(
        `${label} needs a ${(bytes / 2 ** 20).toFixed(1)} MiB buffer, over this adapter's ${(this.maxBinding / 2 ** 20).toFixed(0)} MiB ` +
          'storage binding limit: use a smaller batch or image size.',
      );
    }
    const cap = Math.min(bucketSize(bytes, this.maxBinding), this.maxBufferSize);
    const list = this.free.get(cap);
    let pb = list?.pop();
    if (!pb) {
      const buffer = this.device.createBuffer({ size: cap, usage: USAGE_STORAGE, label });
      pb = { id: this.nextId++, buffer, capacity: cap, requested: bytes, inUse: false, generation: 0, reserved: false };
      this.owners.set(buffer, pb);
      this.stats_.allocatedBytes += cap;
      this.stats_.created++;
      this.stats_.peakAllocatedBytes = Math.max(this.stats_.peakAllocatedBytes, this.stats_.allocatedBytes);
    }
    pb.inUse = true;
    pb.generation++;
    pb.requested = bytes;
    this.stats_.liveBuffers++;
    this.stats_.liveBytes += bytes;
    this.log?.push({ op: 'acquire', id: pb.id, bytes, pb });
    this.onAcquire?.(pb);
    return pb;
  }

  release(pb: PooledBuffer): void {
    if (!pb.inUse) throw new Error(`buffer ${pb.id} released twice`);
    pb.inUse = false;
    this.stats_.liveBuffers--;
    this.stats_.liveBytes -= pb.requested;
    this.log?.push({ op: 'release', id: pb.id, bytes: pb.requested, pb });
    if (pb.reserved) return;
    let list = this.free.get(pb.capacity);
    if (!list) this.free.set(pb.capacity, (list = []));
    list.push(pb);
  }

  /**
   * Takes free buffers out of circulation for a static memory plan: a recorded step replays into
   * exactly these buffers, so no other tensor may be given one between replays. Each must be free.
   */
  reserve(buffers: Iterable<PooledBuffer>): void {
    for (const pb of buffers) {
      if (pb.inUse || pb.reserved) throw new Error(`buffer ${pb.id} cannot be reserved: it is ${pb.inUse ? 'in use' : 'already reserved'}`);
      const list = this.free.get(pb.capacity);
      const i = list ? list.indexOf(pb) : -1;
      if (i < 0) throw new Error(`buffer ${pb.id} is not in the pool's free list`);
      list!.splice(i, 1);
      pb.reserved = true;
      this.stats_.reservedBuffers++;
      this.stats_.reservedBytes += pb.capacity;
    }
  }

  /** Gives reserved buffers back to the free lists (the plan that held them was discarded). */
  unreserve(buffers: Iterable<PooledBuffer>): void {
    for (const pb of buffers) {
      if (!pb.reserved) continue;
      pb.reserved = false;
      this.stats_.reservedBuffers--;
      this.stats_.reservedBytes -= pb.capacity;
      if (pb.inUse) continue;
      let list = this.free.get(pb.capacity);
      if (!list) this.free.set(pb.capacity, (list = []));
      list.push(pb);
    }
  }

  /** Destroys the free buffers (memory back to the driver). Safe only after pending work is submitted. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const pb of list) {
        pb.buffer.destroy();
        this.owners.delete(pb.buffer);
        this.stats_.allocatedBytes -= pb.capacity;
      }
    }
    this.free.clear();
  }

  /** Starts a new peak measurement: the peak becomes what is allocated now. */
  resetPeak(): void {
    this.stats_.peakAllocatedBytes = this.stats_.allocatedBytes;
  }

  /** The pooled buffer wrapping a GPU buffer, if the pool made it. */
  owner(buffer: GPUBuffer): PooledBuffer | undefined {
    return this.owners.get(buffer);
  }

  stats(): PoolStats {
    return { ...this.stats_ };
  }
}
