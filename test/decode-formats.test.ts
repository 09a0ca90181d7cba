/**
 * Images as people have them: WebP, GIF (first frame), BMP, EXIF-rotated JPEG, 16-bit PNG, CMYK
 * JPEG and TIFF decode to the right pixels. Fixtures are made here with the encoders (sharp,
 * pngjs, and a small BMP writer) from pixels we choose, and the decodes are compared with those
 * pixels and with sharp's (libvips') own decode as the reference. Also the resize policies.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { PNG } from 'pngjs';
import { decodeImageFile } from '../src/data/decode-image-file.js';
import { decodeImage, sniffImageFormat } from '../src/data/decode-image.js';
import { loadImageFolder } from '../src/data/dataset.js';
import { PAD_COLOR, resizeRgb } from '../src/data/resize.js';

type Px = [number, number, number];

/** A seeded pattern of flat colours, no two neighbours alike. */
function pattern(w: number, h: number, seed = 1): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  let s = seed;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = 20 + ((s >>> 16) % 216);
  }
  return out;
}

function raw(rgb: Uint8Array, w: number, h: number, channels = 3) {
  return sharp(Buffer.from(rgb), { raw: { width: w, height: h, channels: channels as 3 | 4 } });
}

/** sharp's decode of a file as upright 8-bit sRGB, alpha over white: the reference. */
async function reference(bytes: Uint8Array): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const { data, info } = await sharp(bytes).rotate().flatten({ background: '#ffffff' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgb: new Uint8Array(data) };
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A blocky image: 8x8 blocks of flat colours (JPEG keeps flat 8x8 blocks nearly exact). */
function blocks(bw: number, bh: number, colours: Px[]): { rgb: Uint8Array; w: number; h: number } {
  const w = bw * 8, h = bh * 8;
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set(colours[(Math.floor(y / 8) * bw + Math.floor(x / 8)) % colours.length]!, (y * w + x) * 3);
  return { rgb, w, h };
}

// ---------- a small BMP writer for the fixtures ----------

interface BmpSpec {
  w: number;
  h: number;
  bpp: 1 | 4 | 8 | 16 | 24 | 32;
  px: (x: number, y: number) => number[]; // RGBA, or [index] for palettes
  palette?: Px[];
  topDown?: boolean;
  masks?: [number, number, number, number]; // BI_BITFIELDS with a V5 header
  rle8?: boolean;
}

function writeBmp(s: BmpSpec): Uint8Array {
  const header = s.masks ? 124 : 40;
  const paletteBytes = (s.palette?.length ?? 0) * 4;
  const stride = Math.floor((s.w * s.bpp + 31) / 32) * 4;
  let pixels: Uint8Array;
  if (s.rle8) {
    const out: number[] = [];
    for (let r = 0; r < s.h; r++) {
      const y = s.topDown ? r : s.h - 1 - r;
      let x = 0;
      while (x < s.w) {
        const v = s.px(x, y)[0]!;
        let n = 1;
        while (x + n < s.w && n < 255 && s.px(x + n, y)[0] === v) n++;
        if (n >= 2) out.push(n, v);
        else out.push(1, v);
        x += n;
      }
      out.push(0, 0);
    }
    out.push(0, 1);
    pixels = Uint8Array.from(out);
  } else {
    pixels = new Uint8Array(stride * s.h);
    const dv = new DataView(pixels.buffer);
    for (let r = 0; r < s.h; r++) {
      const y = s.topDown ? r : s.h - 1 - r;
      for (let x = 0; x < s.w; x++) {
        const p = s.px(x, y);
        const o = r * stride;
        if (s.bpp <= 8) {
          const per = 8 / s.bpp;
          pixels[o + Math.floor(x / per)]! |= p[0]! << (8 - s.bpp * ((x % per) + 1));
        } else if (s.bpp === 24) {
          pixels[o + x * 3] = p[2]!; pixels[o + x * 3 + 1] = p[1]!; pixels[o + x * 3 + 2] = p[0]!;
        } else {
          const m = s.masks!;
          const field = (v: number, mask: number) => {
            if (!mask) return 0;
            let shift = 0;
            while (!((mask >>> shift) & 1)) shift++;
            const max = (mask >>> shift);
            return (Math.round((v * max) / 255) << shift) >>> 0;
          };
          const word = (field(p[0]!, m[0]) | field(p[1]!, m[1]) | field(p[2]!, m[2]) | field(p[3] ?? 255, m[3])) >>> 0;
          if (s.bpp === 16) dv.setUint16(o + x * 2, word, true);
          else dv.setUint32(o + x * 4, word, true);
        }
      }
    }
  }
  const offset = 14 + header + paletteBytes;
  const file = new Uint8Array(offset + pixels.length);
  const dv = new DataView(file.buffer);
  file[0] = 0x42; file[1] = 0x4d;
  dv.setUint32(2, file.length, true);
  dv.setUint32(10, offset, true);
  dv.setUint32(14, header, true);
  dv.setInt32(18, s.w, true);
  dv.setInt32(22, s.topDown ? -s.h : s.h, true);
  dv.setUint16(26, 1, true);
  dv.setUint16(28, s.bpp, true);
  dv.setUint32(30, s.rle8 ? 1 : s.masks ? 3 : 0, true);
  dv.setUint32(34, pixels.length, true);
  dv.setUint32(46, s.palette?.length ?? 0, true);
  if (s.masks) s.masks.forEach((m, i) => dv.setUint32(54 + i * 4, m, true));
  s.palette?.forEach((c, i) => { file[14 + header + i * 4] = c[2]; file[14 + header + i * 4 + 1] = c[1]; file[14 + header + i * 4 + 2] = c[0]; });
  file.set(pixels, offset);
  return file;
}

describe('decoding the formats people have', () => {
  it('WebP: lossless gives the exact pixels, lossy matches libwebp', async () => {
    const rgb = pattern(13, 9, 3);
    const lossless = await raw(rgb, 13, 9).webp({ lossless: true }).toBuffer();
    expect(sniffImageFormat(lossless)).toBe('webp');
    const img = await decodeImageFile(lossless, 'a.webp');
    expect([img.width, img.height]).toEqual([13, 9]);
    expect(Array.from(img.rgb)).toEqual(Array.from(rgb));
    expect(img.source).toEqual({ format: 'webp', mode: 'rgb', bitDepth: 8 });
    const lossy = await raw(rgb, 13, 9).webp({ quality: 60 }).toBuffer();
    expect(maxDiff((await decodeImageFile(lossy, 'b.webp')).rgb, (await reference(lossy)).rgb)).toBe(0);
  });

  it('WebP with alpha is composited over white', async () => {
    const rgba = Uint8Array.from([200, 0, 0, 255, 0, 200, 0, 0, 0, 0, 200, 128, 10, 20, 30, 255]);
    const f = await raw(rgba, 2, 2, 4).webp({ lossless: true }).toBuffer();
    const img = await decodeImageFile(f, 'a.webp');
    expect(Array.from(img.rgb.subarray(0, 3))).toEqual([200, 0, 0]);
    expect(Array.from(img.rgb.subarray(3, 6))).toEqual([255, 255, 255]);
    const half = Array.from(img.rgb.subarray(6, 9));
    [127, 127, 227].forEach((v, i) => expect(Math.abs(half[i]! - v)).toBeLessThanOrEqual(1));
    expect(img.source?.mode).toBe('rgba');
  });

  it('GIF: the first frame of an animation, palette colours exact', async () => {
    const a = blocks(2, 1, [[250, 10, 10], [10, 10, 250]]);
    const b = blocks(2, 1, [[10, 250, 10], [250, 250, 10]]);
    const frame = async (x: typeof a) => raw(x.rgb, x.w, x.h).png().toBuffer();
    const gif = await sharp([await frame(a), await frame(b)], { join: { animated: true } }).gif({ dither: 0 }).toBuffer();
    expect(sniffImageFormat(gif)).toBe('gif');
    expect((await sharp(gif).metadata()).pages).toBe(2);
    const img = await decodeImageFile(gif, 'anim.gif');
    expect([img.width, img.height]).toEqual([16, 8]);
    expect(maxDiff(img.rgb, a.rgb)).toBeLessThanOrEqual(2);
    expect(img.source?.format).toBe('gif');
  });

  it('BMP: 24-bit bottom-up, 32-bit bit fields with alpha (top-down), 16-bit 5-6-5, 8-bit, 4-bit and 1-bit palettes, RLE8', async () => {
    const W = 7, H = 5;
    const rgb = pattern(W, H, 11);
    const at = (x: number, y: number) => Array.from(rgb.subarray((y * W + x) * 3, (y * W + x) * 3 + 3));
    const b24 = decodeImage(writeBmp({ w: W, h: H, bpp: 24, px: at }), 'a.bmp');
    expect([b24.width, b24.height]).toEqual([W, H]);
    expect(Array.from(b24.rgb)).toEqual(Array.from(rgb));
    expect(b24.source).toEqual({ format: 'bmp', mode: 'rgb', bitDepth: 24 });
    // The same through the Node entry point.
    expect(Array.from((await decodeImageFile(writeBmp({ w: W, h: H, bpp: 24, px: at }), 'a.bmp')).rgb)).toEqual(Array.from(rgb));

    const alpha = (x: number, y: number) => ((x + y) % 3 === 0 ? 0 : (x + y) % 3 === 1 ? 255 : 100);
    const b32 = decodeImage(writeBmp({ w: W, h: H, bpp: 32, topDown: true, masks: [0xff0000, 0xff00, 0xff, 0xff000000], px: (x, y) => [...at(x, y), alpha(x, y)] }), 'b.bmp');
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      const a = alpha(x, y);
      const want = at(x, y).map((v) => Math.floor((v * a + 255 * (255 - a) + 127) / 255));
      expect(Array.from(b32.rgb.subarray((y * W + x) * 3, (y * W + x) * 3 + 3))).toEqual(want);
    }
    expect(b32.source?.mode).toBe('rgba');

    const b16 = decodeImage(writeBmp({ w: W, h: H, bpp: 16, masks: [0xf800, 0x07e0, 0x001f, 0], px: at }), 'c.bmp');
    for (let i = 0; i < W * H; i++) {
      const want = [31, 63, 31].map((max, c) => Math.round((Math.round((rgb[i * 3 + c]! * max) / 255) * 255) / max));
      expect(Array.from(b16.rgb.subarray(i * 3, i * 3 + 3))).toEqual(want);
    }

    const palette: Px[] = [[0, 0, 0], [255, 255, 255], [200, 30, 60], [20, 180, 90], [40, 60, 220], [250, 200, 0], [90, 90, 90], [10, 250, 250]];
    const idx = (x: number, y: number) => (x * 3 + y * 5) % palette.length;
    const want = (bits: number) => Uint8Array.from({ length: W * H * 3 }, (_, k) => palette[idx(Math.floor(k / 3) % W, Math.floor(k / 3 / W)) % (1 << bits)]![k % 3]!);
    for (const bpp of [8, 4] as const) {
      const img = decodeImage(writeBmp({ w: W, h: H, bpp, palette, px: (x, y) => [idx(x, y)] }), `p${bpp}.bmp`);
      expect(Array.from(img.rgb)).toEqual(Array.from(want(8)));
      expect(img.source?.mode).toBe('palette');
    }
    const one = decodeImage(writeBmp({ w: W, h: H, bpp: 1, palette: palette.slice(0, 2), px: (x, y) => [idx(x, y) % 2] }), 'p1.bmp');
    expect(Array.from(one.rgb)).toEqual(Array.from(want(1)));
    const rle = decodeImage(writeBmp({ w: W, h: H, bpp: 8, palette, rle8: true, px: (x, y) => [x < 4 ? 2 : idx(x, y)] }), 'rle.bmp');
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
      expect(Array.from(rle.rgb.subarray((y * W + x) * 3, (y * W + x) * 3 + 3))).toEqual(palette[x < 4 ? 2 : idx(x, y)]);
    }
    expect(() => decodeImage(writeBmp({ w: W, h: H, bpp: 24, px: at }).subarray(0, 80), 'cut.bmp')).toThrow(/^cut\.bmp: truncated BMP/);
  });

  it('EXIF orientation: every orientation of a JPEG comes out upright, as libvips shows it', async () => {
    // 24x16: six flat 8x8 blocks of different colours, so every rotation and mirror is distinguishable.
    const src = blocks(3, 2, [[230, 20, 20], [20, 230, 20], [20, 20, 230], [230, 230, 20], [20, 230, 230], [230, 20, 230]]);
    for (let o = 1; o <= 8; o++) {
      const jpg = await raw(src.rgb, src.w, src.h).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).withMetadata({ orientation: o }).toBuffer();
      const img = await decodeImageFile(jpg, `o${o}.jpg`);
      const ref = await reference(jpg);
      expect([img.width, img.height], `orientation ${o}`).toEqual([ref.width, ref.height]);
      expect([img.width, img.height]).toEqual(o >= 5 ? [16, 24] : [24, 16]);
      expect(maxDiff(img.rgb, ref.rgb), `orientation ${o}`).toBeLessThanOrEqual(4);
    }
    // Orientation 6 (turn 90 degrees clockwise): the top-left block (red) ends at the top-right.
    const jpg6 = await raw(src.rgb, src.w, src.h).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).withMetadata({ orientation: 6 }).toBuffer();
    const up = await decodeImageFile(jpg6, 'o6.jpg');
    const topRight = Array.from(up.rgb.subarray((2 * up.width + up.width - 3) * 3, (2 * up.width + up.width - 3) * 3 + 3));
    [230, 20, 20].forEach((v, c) => expect(Math.abs(topRight[c]! - v)).toBeLessThanOrEqual(4));
  });

  it('16-bit PNG: RGB and gray+alpha scaled to 8 bits with rounding', async () => {
    const W = 4, H = 3;
    const png = new PNG({ width: W, height: H, bitDepth: 16, colorType: 2, inputColorType: 6 });
    const data = new Uint16Array(W * H * 4);
    for (let i = 0; i < W * H * 4; i++) data[i] = i % 4 === 3 ? 65535 : (i * 9973 + 4099) % 65536;
    (png as unknown as { data: Buffer }).data = Buffer.from(data.buffer);
    const bytes = PNG.sync.write(png, { bitDepth: 16, colorType: 2, inputColorType: 6 });
    const img = decodeImage(bytes, 'deep.png');
    expect(img.source).toEqual({ format: 'png', mode: 'rgb', bitDepth: 16 });
    for (let p = 0; p < W * H; p++) for (let c = 0; c < 3; c++) expect(img.rgb[p * 3 + c]).toBe(Math.round((data[p * 4 + c]! * 255) / 65535));
    expect(maxDiff(img.rgb, (await reference(bytes)).rgb)).toBeLessThanOrEqual(1);

    const ga = new PNG({ width: 2, height: 1, bitDepth: 16, colorType: 4, inputColorType: 6 });
    const gdata = Uint16Array.from([40000, 40000, 40000, 65535, 40000, 40000, 40000, 0]);
    (ga as unknown as { data: Buffer }).data = Buffer.from(gdata.buffer);
    const gimg = decodeImage(PNG.sync.write(ga, { bitDepth: 16, colorType: 4, inputColorType: 6 }), 'ga16.png');
    expect(Array.from(gimg.rgb)).toEqual([156, 156, 156, 255, 255, 255]);
    expect(gimg.source?.mode).toBe('gray+alpha');
  });

  it('CMYK JPEG: converted with its colour profile, matching libvips, and the colours stay what they were', async () => {
    const src = blocks(4, 1, [[220, 40, 50], [30, 160, 70], [240, 240, 240], [40, 40, 40]]);
    const cmyk = await raw(src.rgb, src.w, src.h).toColourspace('cmyk').jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const img = await decodeImageFile(cmyk, 'print.jpg');
    expect(img.source?.mode).toBe('cmyk');
    expect(maxDiff(img.rgb, (await reference(cmyk)).rgb)).toBeLessThanOrEqual(1);
    // A round trip through a print profile is not exact, but red stays red and grey stays grey.
    const centre = (b: number) => Array.from(img.rgb.subarray((4 * 32 + b * 8 + 4) * 3, (4 * 32 + b * 8 + 4) * 3 + 3));
    const [red, green, light, dark] = [0, 1, 2, 3].map(centre);
    expect(red![0]).toBeGreaterThan(180);
    expect(red![1]).toBeLessThan(80);
    expect(green![1]).toBeGreaterThan(120);
    expect(green![0]).toBeLessThan(80);
    expect(Math.min(...light!)).toBeGreaterThan(215);
    expect(Math.max(...dark!)).toBeLessThan(75);
  });

  it('TIFF is read through libvips, pixels exact', async () => {
    const rgb = pattern(5, 4, 9);
    const tif = await raw(rgb, 5, 4).tiff({ compression: 'lzw' }).toBuffer();
    expect(sniffImageFormat(tif)).toBe('tiff');
    const img = await decodeImageFile(tif, 'scan.tif');
    expect(Array.from(img.rgb)).toEqual(Array.from(rgb));
    expect(img.source).toEqual({ format: 'tiff', mode: 'rgb', bitDepth: 8 });
  });

  it('a folder of mixed formats loads, and corrupt WebP/GIF files are skipped with the reason', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mg-formats-'));
    mkdirSync(join(root, 'a'));
    mkdirSync(join(root, 'b'));
    const red = blocks(2, 2, [[230, 20, 20]]);
    const blue = blocks(2, 2, [[20, 20, 230]]);
    writeFileSync(join(root, 'a', '1.webp'), await raw(red.rgb, 16, 16).webp({ lossless: true }).toBuffer());
    writeFileSync(join(root, 'a', '2.gif'), await raw(red.rgb, 16, 16).gif().toBuffer());
    writeFileSync(join(root, 'a', '3.bmp'), writeBmp({ w: 16, h: 16, bpp: 24, px: () => [230, 20, 20] }));
    writeFileSync(join(root, 'b', '1.jpg'), await raw(blue.rgb, 16, 16).jpeg().toBuffer());
    writeFileSync(join(root, 'b', '2.png'), await raw(blue.rgb, 16, 16).png().toBuffer());
    writeFileSync(join(root, 'b', '3.tiff'), await raw(blue.rgb, 16, 16).tiff().toBuffer());
    const webp = await raw(blue.rgb, 16, 16).webp().toBuffer();
    writeFileSync(join(root, 'b', 'cut.webp'), webp.subarray(0, webp.length >> 1));
    writeFileSync(join(root, 'b', 'junk.gif'), Buffer.from('GIF89a not really'));
    const d = await loadImageFolder(root, { imageSize: 4, allowSmall: true, cacheDir: null });
    expect(d.count).toBe(6);
    expect(d.infos.map((i) => i.format)).toEqual(['webp', 'gif', 'bmp', 'jpeg', 'png', 'tiff']);
    for (let i = 0; i < 6; i++) {
      const px = Array.from(d.images.subarray(i * 48, i * 48 + 3));
      const want = i < 3 ? [230, 20, 20] : [20, 20, 230];
      px.forEach((v, c) => expect(Math.abs(v - want[c]!)).toBeLessThanOrEqual(6));
    }
    const reasons = Object.fromEntries(d.skipped.map((s) => [s.path.split('/').pop(), s.reason]));
    expect(reasons['cut.webp']).toMatch(/corrupt WEBP/);
    expect(reasons['junk.gif']).toMatch(/corrupt GIF/);
  });
});

describe('resize policies for non-square images', () => {
  const W = 12, H = 6;
  const img = pattern(W, H, 5);
  it('crop (default) keeps the centre square', () => {
    expect(resizeRgb(img, W, H, 6)).toEqual(resizeRgb(img, W, H, 6, undefined, 'crop'));
    const centre = new Uint8Array(6 * 6 * 3);
    for (let y = 0; y < 6; y++) centre.set(img.subarray((y * W + 3) * 3, (y * W + 9) * 3), y * 18);
    expect(resizeRgb(img, W, H, 6, undefined, 'crop')).toEqual(centre);
  });
  it('squash halves the width and keeps every row (2x shrink: bilinear between the two source pixels)', () => {
    const out = resizeRgb(img, W, H, 6, undefined, 'squash');
    for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) for (let c = 0; c < 3; c++) {
      const a = img[(y * W + 2 * x) * 3 + c]!, b = img[(y * W + 2 * x + 1) * 3 + c]!;
      expect(Math.abs(out[(y * 6 + x) * 3 + c]! - (a + b) / 2)).toBeLessThanOrEqual(0.5);
    }
  });
  it('pad letterboxes the whole image on the mean colour', () => {
    const out = resizeRgb(img, W, H, 12, undefined, 'pad');
    // 12x6 fits 12 wide and 6 high, rows 3..8; the rest is the pad colour.
    for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) {
      const got = Array.from(out.subarray((y * 12 + x) * 3, (y * 12 + x) * 3 + 3));
      if (y < 3 || y >= 9) expect(got).toEqual([...PAD_COLOR]);
      else expect(got).toEqual(Array.from(img.subarray(((y - 3) * W + x) * 3, ((y - 3) * W + x) * 3 + 3)));
    }
    const tall = resizeRgb(pattern(3, 9, 2), 3, 9, 9, undefined, 'pad');
    expect(Array.from(tall.subarray(0, 3))).toEqual([...PAD_COLOR]);
    expect(Array.from(tall.subarray(3 * 3, 3 * 3 + 3))).toEqual(Array.from(pattern(3, 9, 2).subarray(0, 3)));
  });
});
