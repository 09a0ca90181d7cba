/** The profiler, the roofline and the op benchmark. */
export { profile, type ProfileOptions, type ProfileReport } from './profiler.js';
export { measureRoofline, type Roofline } from './roofline.js';
export { formatProfileTable, type KernelProfileRow } from './report.js';
export { chromeTrace, traceSummary, type ChromeTrace } from './trace.js';
export type { DispatchSample } from './recorders.js';
export { benchmarkOp, prepareOpBench, timeRecords, type OpBenchResult, type OpBenchPass, type PreparedOpBench } from './benchmark-op.js';
