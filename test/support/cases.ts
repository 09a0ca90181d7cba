/** A named check that runs on the GPU; the same list runs under vitest and in Chromium. */
export interface Case {
  name: string;
  run: () => Promise<void>;
}

export function cases(group: string, list: [string, () => Promise<void>][]): Case[] {
  return list.map(([name, run]) => ({ name: `${group}: ${name}`, run }));
}
