/**
 * `mobilegrad`: one module per command under src/cli/commands/, dispatched from the table below.
 * Bad input gets one line naming the problem and the fix, exit code 2, no stack trace; a GPU or
 * runtime failure exits 1 with its message.
 */
import { MobilegradError } from '../device/errors.js';
import { UsageError } from '../data/usage-error.js';
import { cmdBench } from './commands/bench.js';
import { cmdCheck } from './commands/check.js';
import { cmdEval } from './commands/eval.js';
import { cmdExport } from './commands/export.js';
import { cmdInfo } from './commands/info.js';
import { cmdLrFind } from './commands/lr-find.js';
import { cmdPredict } from './commands/predict.js';
import { cmdQuantize } from './commands/quantize.js';
import { cmdTrain } from './commands/train.js';

/** Commands by name: add a command by adding a module and a row here. */
const COMMANDS: Record<string, { run: (argv: string[]) => Promise<void>; summary: string }> = {
  train: { run: cmdTrain, summary: 'train MobileNetV3-Small on a folder of images (class = subfolder)' },
  check: { run: cmdCheck, summary: 'check a dataset: counts, sizes, formats, unreadable files, imbalance, duplicates, leakage' },
  'lr-find': { run: cmdLrFind, summary: 'learning-rate range test: loss against learning rate (PNG) and a suggested lr' },
  eval: { run: cmdEval, summary: 'accuracy, per-class precision/recall/F1, averages and confusion matrix of a trained model' },
  predict: { run: cmdPredict, summary: 'top-5 classes of images' },
  quantize: { run: cmdQuantize, summary: 'int8 model from a trained one: calibration, accuracy and per-layer SQNR, self-checked' },
  export: { run: cmdExport, summary: 'the model as ONNX (float32, or int8 QDQ), checked against it with onnxruntime' },
  info: { run: cmdInfo, summary: 'the architecture table, parameters and multiply-adds' },
  bench: { run: cmdBench, summary: 'training or inference speed on this machine (images/s, ms per step)' },
};

const USAGE = `usage: mobilegrad <command> [options]

commands:
${Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(9)} ${c.summary}`).join('\n')}
run 'mobilegrad <command> --help' for its options.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const run = command ? COMMANDS[command] : undefined;
    if (run) {
      await run.run(rest);
      return 0;
    }
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        break;
      default:
        throw new UsageError(`unknown command '${command}': run 'mobilegrad help' for the commands`);
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`mobilegrad: ${e.message}\n`);
      return 2;
    }
    if (e instanceof MobilegradError) {
      process.stderr.write(`mobilegrad: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`mobilegrad: internal error: ${(e as Error)?.message ?? e}\n`);
    if (process.env.MOBILEGRAD_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    return 1;
  }
}

// Exit explicitly: Dawn keeps the event loop alive.
main(process.argv.slice(2)).then((code) => process.exit(code));
