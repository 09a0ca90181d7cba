/** A small, strict command-line parser: known flags only, typed values, clear errors. */
import { UsageError } from '../data/usage-error.js';

export type FlagType = 'string' | 'number' | 'boolean';
export type FlagSpec = Record<string, { type: FlagType; help: string }>;

export interface Parsed {
  flags: Record<string, string | number | boolean>;
  positional: string[];
}

export function parseArgs(argv: string[], spec: FlagSpec, command: string): Parsed {
  const flags: Parsed['flags'] = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq >= 0 ? eq : undefined);
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${name} for '${command}': run 'mobilegrad ${command} --help' for the options`);
    if (s.type === 'boolean') {
      flags[name] = true;
      continue;
    }
    const raw = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    if (s.type === 'number') {
      const v = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) throw new UsageError(`--${name} must be a number, got '${raw}'`);
      flags[name] = v;
    } else flags[name] = raw;
  }
  return { flags, positional };
}

export function helpText(command: string, usage: string, spec: FlagSpec): string {
  const rows = Object.entries(spec).map(([n, s]) => `  --${n}${s.type === 'boolean' ? '' : ` <${s.type}>`}`.padEnd(30) + s.help);
  return `usage: mobilegrad ${command} ${usage}\n\noptions:\n${rows.join('\n')}\n`;
}

/** The value of a required string flag, or a UsageError saying which flag the command needs. */
export function requireFlag(flags: Record<string, unknown>, name: string, command: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || !v) throw new UsageError(`'${command}' needs --${name}: see 'mobilegrad ${command} --help'`);
  return v;
}
