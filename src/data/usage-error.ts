import { MobilegradError } from '../device/errors.js';

/**
 * Bad input from the user (a wrong path, a folder laid out wrongly, too few images).
 * The CLI prints the one-line message, which names the problem and what to do, and exits with code 2.
 */
export class UsageError extends MobilegradError {
  /** The process exit code the CLI uses for this error. */
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
