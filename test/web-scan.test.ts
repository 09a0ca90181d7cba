/**
 * The browser page's pure pieces, in Node: its folder rules give the same dataset as the CLI's scan
 * of the same folder on disk, its refusals match the CLI's, its RGBA-to-RGB compositing is exact,
 * and the CLI's messages are reworded with the page's field names.
 */
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGE_EXTENSIONS as CLI_EXTENSIONS, scanImageFolder } from '../src/data/scan-folder.js';
import { Rng } from '../src/tensor/random.js';
import { rgbaToRgbOnWhite, sniffFormat } from '../web/src/decode.js';
import { IMAGE_EXTENSIONS, scanPaths } from '../web/src/scan-files.js';
import { sniffImageFormat } from '../src/data/decode-image.js';
import { inPageWords } from '../web/src/settings-form.js';

/** Writes `files` (relative paths) under a new folder `root` and returns its parent. */
function makeTree(root: string, files: string[], folders: string[] = []): string {
  const parent = mkdtempSync(join(tmpdir(), 'mg-webscan-'));
  for (const d of folders) mkdirSync(join(parent, root, d), { recursive: true });
  for (const f of files) {
    mkdirSync(join(parent, root, f, '..'), { recursive: true });
    writeFileSync(join(parent, root, f), 'x');
  }
  return parent;
}

/** What a browser's directory input lists: every file below `dir`, as `root/...` paths. */
function listLikeBrowser(parent: string, root: string): { path: string; file: string }[] {
  const out: { path: string; file: string }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: relative(parent, p), file: p });
    }
  };
  walk(join(parent, root));
  // Browsers give no particular order: shuffle so the rules must sort.
  return out.reverse();
}

describe('page folder rules (web/src/scan-files.ts)', () => {
  it('give the same classes, files, labels and skipped files as the CLI scan of the same folder', () => {
    const files = [
      'zebra/z1.PNG', 'zebra/deep/z2.jpeg', 'zebra/.hidden.png', 'apple/a2.jpg', 'apple/a1.png', 'apple/readme.md',
      'Banana/b1.png', 'Banana/noext', 'top-level.png', '.DS_Store', '.git/x.png', 'Ünicode/u.jpg',
    ];
    const parent = makeTree('photos', files);
    const cli = scanImageFolder(join(parent, 'photos'), { allowSmall: true });
    const page = scanPaths(listLikeBrowser(parent, 'photos'), { allowSmall: true });
    expect(page.root).toBe('photos');
    expect(page.classes).toEqual(cli.classes);
    expect(page.classes).toEqual(['Banana', 'apple', 'zebra', 'Ünicode']);
    expect(page.files.map((f) => [relative(parent, f.file), f.label])).toEqual(cli.files.map((f) => [relative(parent, f.path), f.label]));
    const norm = (xs: { path: string; reason: string }[]) => xs.map((s) => `${s.path}: ${s.reason}`).sort();
    expect(norm(page.skipped)).toEqual(norm(cli.skipped.map((s) => ({ path: relative(parent, s.path), reason: s.reason }))));
    expect(page.perClass).toEqual([1, 2, 2, 1]);
    expect(page.refusals).toEqual([]);
    expect(page.warnings.join(' ')).toMatch(/Only 6 images, fewer than the 200/);
  });

  it("read the CLI's image extensions", () => {
    expect([...IMAGE_EXTENSIONS]).toEqual([...CLI_EXTENSIONS]);
  });

  it('refuse what the CLI refuses, naming the fix', () => {
    const entries = (paths: string[]) => paths.map((path) => ({ path, file: null }));
    const one = scanPaths(entries(['p/cat/1.png', 'p/cat/2.png']), { allowSmall: true });
    expect(one.refusals.join()).toMatch(/Only one class \("cat"\).*add another/);
    const none = scanPaths(entries(['p/1.png']), { allowSmall: true });
    expect(none.refusals.join()).toMatch(/No class subfolders/);
    expect(none.skipped).toEqual([{ path: 'p/1.png', reason: 'not inside a class subfolder' }]);
    const emptyByFiles = scanPaths(entries(['p/cat/1.png', 'p/dog/notes.txt']), { allowSmall: true });
    expect(emptyByFiles.refusals.join()).toMatch(/Class folder "dog" has no images/);
    const emptyFolder = scanPaths(entries(['p/cat/1.png', 'p/cat/2.png']), { allowSmall: true, folders: ['p', 'p/cat', 'p/dog'] });
    expect(emptyFolder.classes).toEqual(['cat', 'dog']);
    expect(emptyFolder.refusals.join()).toMatch(/Class folder "dog" has no images/);
    const small = scanPaths(entries(['p/cat/1.png', 'p/dog/1.png']), { allowSmall: false });
    expect(small.refusals.join()).toMatch(/Only 2 images, fewer than the 200 .*tick "allow fewer than 200"/);
    const many = Array.from({ length: 200 }, (_, i) => `p/${i % 2 ? 'cat' : 'dog'}/${i}.png`);
    expect(scanPaths(entries(many), { allowSmall: false }).refusals).toEqual([]);

    // The CLI refuses the same folders.
    const parent = makeTree('q', ['cat/1.png']);
    expect(() => scanImageFolder(join(parent, 'q'), { allowSmall: true })).toThrow(/Only one class/);
    const parent2 = makeTree('q', ['cat/1.png', 'dog/notes.txt']);
    expect(() => scanImageFolder(join(parent2, 'q'), { allowSmall: true })).toThrow(/Class folder "dog"/);
  });

  it('treat several dropped folders as the classes', () => {
    const s = scanPaths([{ path: 'dog/1.png', file: 1 }, { path: 'cat/1.png', file: 2 }, { path: 'cat/sub/2.jpg', file: 3 }], { allowSmall: true });
    expect(s.classes).toEqual(['cat', 'dog']);
    expect(s.files.map((f) => [f.file, f.label])).toEqual([[2, 0], [3, 0], [1, 1]]);
  });

  it('warn about unbalanced classes', () => {
    const paths = [...Array.from({ length: 50 }, (_, i) => `p/a/${i}.png`), ...Array.from({ length: 5 }, (_, i) => `p/b/${i}.png`)];
    expect(scanPaths(paths.map((path) => ({ path, file: 0 })), { allowSmall: true }).warnings.join()).toMatch(/unbalanced \(5 to 50 images\)/);
  });
});

describe('page image decoding (web/src/decode.ts)', () => {
  it('composites RGBA over white exactly as c*a/255 + 255*(1-a/255), rounded', () => {
    const rng = new Rng(11);
    const n = 4099;
    const rgba = new Uint8Array(n * 4);
    for (let i = 0; i < rgba.length; i++) rgba[i] = rng.int(256);
    for (let i = 0; i < 64; i++) rgba[i * 4 + 3] = [0, 1, 254, 255][i % 4]!; // the alpha corners
    const out = rgbaToRgbOnWhite(rgba);
    expect(out.length).toBe(n * 3);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const a = rgba[i * 4 + 3]! / 255;
      for (let c = 0; c < 3; c++) {
        const want = rgba[i * 4 + c]! * a + 255 * (1 - a);
        worst = Math.max(worst, Math.abs(out[i * 3 + c]! - want));
        if (a === 1) expect(out[i * 3 + c]).toBe(rgba[i * 4 + c]);
      }
    }
    expect(worst).toBeLessThanOrEqual(0.5 + 1e-9);
  });
});

describe('page format sniffing (web/src/decode.ts)', () => {
  it("names the same format as the CLI's decoder for every signature, and none for others", () => {
    const sig = (head: number[] | string, len = 32) => {
      const b = new Uint8Array(len).fill(7);
      (typeof head === 'string' ? [...head].map((c) => c.charCodeAt(0)) : head).forEach((v, i) => (b[i] = v));
      return b;
    };
    const samples = [
      sig([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), sig([0xff, 0xd8, 0xff, 0xe0]), sig('RIFF\x10\0\0\0WEBPVP8 '),
      sig('GIF89a'), sig('GIF87a'), sig('BM'), sig('II*\0'), sig('MM\0*'), sig('\0\0\0\x1cftypavif'), sig('\0\0\0\x1cftypheic'),
      sig('%PDF-1.4'), sig('RIFF\x10\0\0\0WAVE'), sig([0xff, 0xd8]), sig('\0\0\0\x1cftypisom'), new Uint8Array(0),
    ];
    const got = samples.map((b) => sniffFormat(b));
    expect(got).toEqual(samples.map((b) => sniffImageFormat(b)));
    expect(got.filter(Boolean).length).toBe(10);
  });
});

describe('page settings (web/src/settings-form.ts)', () => {
  it("word the CLI's messages with the page's field names", () => {
    expect(inPageWords('--batch-size 8 is outside the recommended range 16-128; running anyway.')).toBe('Batch size 8 is outside the recommended range 16-128; running anyway.');
    expect(inPageWords('--lr must be a positive number, got 0: for example --lr 0.001')).toBe('Learning rate must be a positive number, got 0: for example Learning rate 0.001');
  });
});
