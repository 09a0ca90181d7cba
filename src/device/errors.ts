/** Errors that mobilegrad raises for the user: a one-line message that names the problem and the fix. */
export class MobilegradError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MobilegradError';
  }
}

/** A WebGPU validation or out-of-memory error, with the kernels that were in flight when it happened. */
export class GPUExecutionError extends MobilegradError {
  constructor(kind: string, gpuMessage: string, context: string) {
    super(`WebGPU ${kind} error in ${context}: ${gpuMessage.split('\n')[0]}`);
    this.name = 'GPUExecutionError';
  }
}
