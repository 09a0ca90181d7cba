/** A small class-folder dataset copied from the Fashion-MNIST demo set (data/fashion-mnist), for the page scripts. */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Copies the first `n` images of data/fashion-mnist/<split>, round-robin over its 10 classes, into `dir`. */
export function demoSubset(n, dir, split = 'train') {
  const src = join(root, 'data/fashion-mnist', split);
  const classes = readdirSync(src).filter((c) => !c.startsWith('.')).sort();
  const files = classes.map((c) => readdirSync(join(src, c)).filter((f) => f.endsWith('.png')).sort());
  const most = Math.max(...files.map((f) => f.length));
  let left = n;
  for (let i = 0; i < most && left > 0; i++) {
    classes.forEach((c, ci) => {
      if (left <= 0 || i >= files[ci].length) return;
      mkdirSync(join(dir, c), { recursive: true });
      cpSync(join(src, c, files[ci][i]), join(dir, c, files[ci][i]));
      left--;
    });
  }
  if (left > 0) throw new Error(`data/fashion-mnist/${split} has fewer than ${n} images`);
  return dir;
}
