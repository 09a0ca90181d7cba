/**
 * Memory scopes. GPU buffers are not garbage-collected in time to matter, so every tensor made
 * inside `tidy(fn)` is released when `fn` returns, except what `fn` returns and what `keep()` marks.
 */
import type { Tensor } from './tensor.js';

const scopes: Set<Tensor>[] = [];

/** @internal Registers a new tensor with the innermost scope. */
export function track(t: Tensor): void {
  scopes[scopes.length - 1]?.add(t);
}

/** Exempts a tensor from every open scope: it lives until `release()`. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collect(value: unknown, out: Set<Tensor>, depth = 0): void {
  if (!value || depth > 4 || typeof value !== 'object') return;
  if ((value as { shape?: unknown; release?: unknown }).release && Array.isArray((value as { shape?: unknown }).shape)) {
    out.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) collect(v, out, depth + 1);
}

/**
 * Runs `fn` and releases every tensor it created except those in its result
 * (a tensor, or arrays / plain objects of tensors), which move to the enclosing scope.
 * `fn` must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  if (result instanceof Promise) throw new Error('tidy(fn): fn must be synchronous (await outside tidy)');
  const kept = new Set<Tensor>();
  collect(result, kept);
  for (const t of scope) if (!kept.has(t)) t.release();
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of kept) if (scope.has(t)) parent.add(t);
  return result;
}
