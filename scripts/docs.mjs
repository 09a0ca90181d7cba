#!/usr/bin/env node
/**
 * `npm run docs`: the API reference from the TSDoc comments, with TypeDoc, into docs/api/
 * (git-ignored). TypeDoc and the TypeScript 6 it needs live in scripts/docs/ with their own lock
 * file (the project's TypeScript 7 has no JavaScript API); they are installed there on first use.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, 'scripts/docs');
const typedoc = join(tools, 'node_modules/typedoc/bin/typedoc');

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`docs: ${cmd} ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

if (!existsSync(typedoc)) run('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], tools);
run(process.execPath, [
  typedoc,
  '--tsconfig', join(tools, 'tsconfig.json'),
  '--entryPoints', join(root, 'src/index.ts'), join(root, 'src/node.ts'),
  '--out', join(root, 'docs/api'),
  '--name', 'mobilegrad',
  '--readme', join(root, 'README.md'),
  '--excludePrivate', '--excludeInternal',
  // No git remote to link sources to: leave the "Defined in" links out.
  '--disableSources',
  // TypeScript 6 checks what TypeScript 7 already checked (npm run typecheck); only the docs matter here.
  '--skipErrorChecking',
  '--logLevel', 'Warn',
  '--validation.notExported', 'false',
  ...process.argv.slice(2),
], root);
console.log(`docs: ${join(root, 'docs/api/index.html')}`);
