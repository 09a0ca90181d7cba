/** `mobilegrad info`: the architecture table, parameters and multiply-adds. */
import { UsageError } from '../../data/usage-error.js';
import { describeMobileNetV3Small } from '../../models/mobilenet-v3-config.js';
import { helpText, parseArgs, type FlagSpec } from '../args.js';

const INFO_FLAGS: FlagSpec = {
  classes: { type: 'number', help: 'number of classes (1000)' },
  'image-size': { type: 'number', help: 'input resolution (224)' },
  'width-multiplier': { type: 'number', help: 'channel width multiplier (1.0)' },
  json: { type: 'boolean', help: 'print JSON' },
  help: { type: 'boolean', help: 'show this help' },
};

export async function cmdInfo(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv, INFO_FLAGS, 'info');
  if (flags.help) return void process.stdout.write(helpText('info', '[--classes N] [--image-size N]', INFO_FLAGS));
  const classes = (flags.classes as number | undefined) ?? 1000;
  const size = (flags['image-size'] as number | undefined) ?? 224;
  const width = (flags['width-multiplier'] as number | undefined) ?? 1;
  if (!Number.isInteger(classes) || classes < 2) throw new UsageError(`--classes must be a whole number of at least 2, got ${classes}`);
  if (!Number.isInteger(size) || size < 32) throw new UsageError(`--image-size must be a whole number of at least 32, got ${size}`);
  if (!(width > 0)) throw new UsageError(`--width-multiplier must be positive, got ${width}`);
  const d = describeMobileNetV3Small({ numClasses: classes, widthMultiplier: width }, size);
  if (flags.json) return void process.stdout.write(JSON.stringify(d) + '\n');
  const rows = d.layers.map((l) => `${l.name.padEnd(24)} ${l.kind.padEnd(10)} ${(l.kind === 'linear' ? '-' : `${l.kernel}x${l.kernel}`).padEnd(6)} ${String(l.stride).padEnd(3)} ${`(${l.inShape.join(', ')})`.padEnd(17)} ${`(${l.outShape.join(', ')})`.padEnd(17)} ${String(l.params).padStart(9)} ${String(l.macs).padStart(11)}`);
  process.stdout.write(`MobileNetV3-Small, ${classes} classes, ${size}x${size} input, width ${width}\n\n`);
  process.stdout.write(`${'layer'.padEnd(24)} ${'kind'.padEnd(10)} ${'k'.padEnd(6)} ${'s'.padEnd(3)} ${'in (C,H,W)'.padEnd(17)} ${'out (C,H,W)'.padEnd(17)} ${'params'.padStart(9)} ${'MACs'.padStart(11)}\n`);
  process.stdout.write(rows.join('\n') + '\n\n');
  process.stdout.write(`parameters: ${d.params.toLocaleString('en-US')}\nmultiply-adds (batch 1): ${d.macs.toLocaleString('en-US')}\nfloat32 model: ${((d.params * 4) / 1e6).toFixed(2)} MB\n`);
}
