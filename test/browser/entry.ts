/**
 * The in-browser suite: every kernel case of test/cases/all.ts, run in the page against the
 * browser's own WebGPU (`navigator.gpu`). Bundled by test/browser/run.mjs, which drives Chromium.
 *
 * Progress goes out as console lines `MGCASE {json}`; the final summary is left in
 * `window.__mgSuite` (and logged as `MGDONE {json}`).
 */
import * as mg from '../../src/index.js';
import { allCases } from '../cases/all.js';

export interface CaseResult {
  name: string;
  ok: boolean;
  error?: string;
  ms: number;
}

export interface SuiteResult {
  /** Set when the suite could not run at all (no navigator.gpu, init failed). */
  fatal?: string;
  report?: mg.DeviceReport;
  subgroupSize?: [number, number];
  results: CaseResult[];
  ms: number;
}

declare global {
  interface Window {
    __mgSuite?: SuiteResult;
  }
}

/** A case that takes longer than this is reported as failed and the suite moves on. */
const CASE_TIMEOUT_MS = 120_000;

function describe(e: unknown): string {
  if (e instanceof Error) {
    const stack = e.stack ?? '';
    // Chromium's stack starts with "Name: message"; keep a few frames, not the whole bundle path list.
    const head = stack.includes(e.message) ? stack : `${e.name}: ${e.message}\n${stack}`;
    return head.split('\n').slice(0, 6).join('\n');
  }
  return String(e);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

async function runSuite(): Promise<SuiteResult> {
  const t0 = performance.now();
  const out: SuiteResult = { results: [], ms: 0 };
  const nav = navigator as Navigator & { gpu?: GPU };
  if (!nav.gpu) {
    out.fatal =
      'navigator.gpu is missing: this Chromium exposes no WebGPU. It needs --enable-unsafe-webgpu ' +
      '--enable-features=Vulkan (SwiftShader) and a secure context (http://127.0.0.1).';
    return out;
  }
  try {
    out.report = await mg.init();
    const info = mg.getDevice().adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
    if (info.subgroupMinSize !== undefined) out.subgroupSize = [info.subgroupMinSize, info.subgroupMaxSize ?? info.subgroupMinSize];
    mg.getDevice().poisonOutputs(true);
  } catch (e) {
    out.fatal = `mg.init() failed: ${describe(e)}`;
    return out;
  }
  const filter = new URLSearchParams(location.search).get('filter');
  const list = filter ? allCases.filter((c) => c.name.includes(filter)) : allCases;
  console.log(`MGSTART ${JSON.stringify({ cases: list.length, report: out.report, subgroupSize: out.subgroupSize })}`);
  for (const c of list) {
    const s = performance.now();
    let r: CaseResult;
    try {
      await withTimeout(c.run(), CASE_TIMEOUT_MS, c.name);
      r = { name: c.name, ok: true, ms: performance.now() - s };
    } catch (e) {
      r = { name: c.name, ok: false, error: describe(e), ms: performance.now() - s };
    }
    out.results.push(r);
    console.log(`MGCASE ${JSON.stringify(r)}`);
  }
  out.ms = performance.now() - t0;
  return out;
}

void runSuite()
  .catch((e: unknown): SuiteResult => ({ fatal: `suite crashed: ${describe(e)}`, results: [], ms: 0 }))
  .then((r) => {
    window.__mgSuite = r;
    console.log(`MGDONE ${JSON.stringify({ fatal: r.fatal, cases: r.results.length, ms: r.ms })}`);
  });
