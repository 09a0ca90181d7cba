/**
 * Waiting for the GPU in Node without spinning a CPU core.
 *
 * Why: Dawn's Node binding resolves its promises (mapAsync, onSubmittedWorkDone, popErrorScope)
 * by polling: while one is pending it calls `setImmediate` again and again, each time processing
 * Dawn's events. That keeps the JavaScript thread at 100 % of a core for the whole wait. On a GPU
 * this wastes a core; on a CPU adapter (lavapipe) the GPU *is* the CPU, and the spinning thread
 * takes its share of the cores from the driver's worker threads: measured here (2 cores, training
 * 224 px batch 32) the step ran 1.4x slower than with the thread asleep (docs/benchmarks.md).
 *
 * How: while any wait runs through {@link gentleWait}, the global `setImmediate` (which the
 * binding looks up for every poll) is swapped for one that polls at once for the first
 * {@link SPIN_MS} (short waits stay short) and then every millisecond with `setTimeout`, so the
 * thread sleeps between polls. The original is put back when the last wait ends. Other code's
 * setImmediate callbacks during a wait run at most a millisecond late. Browsers resolve WebGPU
 * promises without this (their GPU process does the waiting), so there it is a plain await.
 */

/** How long a wait polls at full speed before it sleeps a millisecond between polls. */
export const SPIN_MS = 0.25;

type Immediate = (callback: (...args: unknown[]) => void, ...args: unknown[]) => unknown;

let enabled = false;
let active = 0;
let original: Immediate | null = null;
let startedAt = 0;

/** Turns the gentle wait on or off (`init` does: on in Node unless `wait: 'spin'`). */
export function enableGentleWait(on = true): void {
  enabled = on && typeof (globalThis as { setImmediate?: unknown }).setImmediate === 'function';
  if (enabled) wrapClearImmediate();
}

// A callback deferred during a wait is a timer, not an Immediate: `clearImmediate` must cancel it
// as one (Node's clearImmediate would unlink it from the wrong list). Installed once, it passes
// every real Immediate through unchanged.
let clearWrapped = false;
function wrapClearImmediate(): void {
  if (clearWrapped) return;
  clearWrapped = true;
  const g = globalThis as unknown as { clearImmediate: (h: unknown) => void };
  const clear = g.clearImmediate;
  g.clearImmediate = (h: unknown) => (deferred.has(h as object) ? clearTimeout(h as ReturnType<typeof setTimeout>) : clear(h));
}
const deferred = new WeakSet<object>();

function throttled(callback: (...args: unknown[]) => void, ...args: unknown[]): unknown {
  if (performance.now() - startedAt < SPIN_MS) return original!(callback, ...args);
  const t = setTimeout(callback, 1, ...args);
  deferred.add(t as unknown as object);
  return t;
}

/**
 * Awaits `start()` (called after the switch, so the binding's first poll is already the gentle
 * one) with the polling throttled as described above. Nested and concurrent waits share one switch.
 */
export async function gentleWait<T>(start: () => Promise<T>): Promise<T> {
  if (!enabled) return start();
  const g = globalThis as unknown as { setImmediate: Immediate };
  if (active++ === 0) {
    original = g.setImmediate;
    startedAt = performance.now();
    g.setImmediate = throttled;
  }
  try {
    return await start();
  } finally {
    if (--active === 0) {
      g.setImmediate = original!;
      original = null;
    }
  }
}
