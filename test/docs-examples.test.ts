/**
 * The guides' programs run as written: every ```ts block whose info string says `runnable` in
 * docs/*.md is bundled (`mobilegrad` resolved to this checkout) and run as its own Node process,
 * which must exit 0. A guide must have at least one; output lines the guide quotes after
 * `// prints:` comments must appear.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const GUIDES = ['custom-ops.md', 'training-loop.md', 'profiling.md'];

/** The runnable blocks of a markdown file, with the line each starts on. */
export function runnableBlocks(markdown: string): { code: string; line: number }[] {
  const out: { code: string; line: number }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(/^```ts\s+runnable\s*$/);
    if (!open) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && !/^```\s*$/.test(lines[j]!)) j++;
    out.push({ code: lines.slice(start, j).join('\n'), line: start + 1 });
    i = j;
  }
  return out;
}

async function runProgram(code: string, name: string): Promise<{ status: number | null; out: string }> {
  // Inside the repository so that node_modules resolve; dist/ is git-ignored.
  mkdirSync(join(root, 'dist'), { recursive: true });
  const dir = mkdtempSync(join(root, 'dist', 'docs-'));
  const src = join(dir, `${name}.ts`);
  writeFileSync(src, code);
  const outfile = join(dir, `${name}.mjs`);
  await build({
    entryPoints: [src],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    packages: 'external',
    loader: { '.wgsl': 'text' },
    sourcemap: 'inline',
    absWorkingDir: root,
    logLevel: 'error',
    plugins: [{ name: 'mobilegrad-from-source', setup: (b) => b.onResolve({ filter: /^mobilegrad$/ }, () => ({ path: join(root, 'src/node.ts') })) }],
  });
  const r = spawnSync(process.execPath, ['--enable-source-maps', outfile], { cwd: dir, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('guides run as written', () => {
  it('finds runnable blocks only where marked', () => {
    const md = 'text\n```ts runnable\nconsole.log(1);\n```\n```ts\nnot run\n```\n```ts runnable\nconsole.log(2);\n```\n';
    expect(runnableBlocks(md)).toEqual([{ code: 'console.log(1);', line: 3 }, { code: 'console.log(2);', line: 9 }]);
  });

  for (const guide of GUIDES) {
    it(`docs/${guide}`, async () => {
      expect(readdirSync(join(root, 'docs'))).toContain(guide);
      const blocks = runnableBlocks(readFileSync(join(root, 'docs', guide), 'utf8'));
      expect(blocks.length, `${guide} has no \`\`\`ts runnable block`).toBeGreaterThan(0);
      for (const [k, b] of blocks.entries()) {
        const r = await runProgram(b.code, `${guide.replace('.md', '')}-${k}`);
        expect(r.status, `docs/${guide} block at line ${b.line} failed:\n${r.out}`).toBe(0);
        for (const m of b.code.matchAll(/\/\/ prints: (.+)$/gm)) expect(r.out, `docs/${guide} line ${b.line}: expected output`).toContain(m[1]!.trim());
      }
    }, 600_000);
  }
});
