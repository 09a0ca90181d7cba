import { PNG } from 'pngjs';
import { glyphPixels, CHAR_ADVANCE } from './font5x7.js';

/** An sRGB colour, 0-255 per channel, with optional opacity (0-1, default 1). */
export type Color = readonly [number, number, number] | readonly [number, number, number, number];

/** Options of {@link Canvas.text}. */
export interface TextOptions {
  /** Integer magnification of the 5x7 font (default 1). */
  scale?: number;
  /** Where the anchor sits along the text: at its start (default), centre or end. */
  align?: 'left' | 'center' | 'right';
  /** Rotated 90 degrees counter-clockwise, reading upwards from the anchor (for y-axis labels). */
  vertical?: boolean;
}

/** Width in pixels of `text` drawn at `scale` (no trailing gap). */
export function textWidth(text: string, scale = 1): number {
  const n = [...text].length;
  return n === 0 ? 0 : (n * CHAR_ADVANCE - 1) * scale;
}

/** Shortens `text` to at most `maxChars` characters, ending in an ellipsis when cut. */
export function truncateText(text: string, maxChars: number): string {
  const chars = [...text];
  if (chars.length <= maxChars) return text;
  return chars.slice(0, Math.max(0, maxChars - 1)).join('') + '\u2026';
}

/**
 * A small opaque RGBA raster for charts: rectangles, anti-aliased lines, bitmap text, PNG output.
 * Coordinates are in pixels from the top-left corner; drawing outside the canvas is clipped.
 */
export class Canvas {
  /** RGBA bytes, row-major; alpha is always 255. */
  readonly data: Uint8Array;

  constructor(readonly width: number, readonly height: number, background: Color = [255, 255, 255]) {
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
      throw new RangeError(`Canvas: size must be positive integers, got ${width}x${height}`);
    }
    this.data = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      this.data[i * 4] = background[0];
      this.data[i * 4 + 1] = background[1];
      this.data[i * 4 + 2] = background[2];
      this.data[i * 4 + 3] = 255;
    }
  }

  /** Blends `color` into pixel (x, y) with the given coverage (0-1), times the colour's own opacity. */
  blend(x: number, y: number, color: Color, coverage = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const a = Math.min(1, Math.max(0, coverage * (color[3] ?? 1)));
    if (a <= 0) return;
    const i = (y * this.width + x) * 4, d = this.data;
    d[i] = Math.round(d[i] + (color[0] - d[i]) * a);
    d[i + 1] = Math.round(d[i + 1] + (color[1] - d[i + 1]) * a);
    d[i + 2] = Math.round(d[i + 2] + (color[2] - d[i + 2]) * a);
  }

  /** The colour at (x, y) as [r, g, b]. */
  pixel(x: number, y: number): [number, number, number] {
    const i = (y * this.width + x) * 4;
    return [this.data[i], this.data[i + 1], this.data[i + 2]];
  }

  /** Fills the rectangle with its top-left corner at (x, y); fractional edges are rounded. */
  fillRect(x: number, y: number, w: number, h: number, color: Color): void {
    const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w)), y1 = Math.min(this.height, Math.round(y + h));
    for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) this.blend(xx, yy, color);
  }

  /** Draws a 1-pixel rectangle outline inside the box (x, y, w, h). */
  strokeRect(x: number, y: number, w: number, h: number, color: Color): void {
    this.fillRect(x, y, w, 1, color);
    this.fillRect(x, y + h - 1, w, 1, color);
    this.fillRect(x, y + 1, 1, h - 2, color);
    this.fillRect(x + w - 1, y + 1, 1, h - 2, color);
  }

  /**
   * Draws an anti-aliased line of the given thickness with round ends between pixel centres
   * (x0, y0) and (x1, y1): each pixel is covered by how far its centre lies from the segment.
   */
  line(x0: number, y0: number, x1: number, y1: number, color: Color, thickness = 1): void {
    const r = thickness / 2;
    const minX = Math.max(0, Math.floor(Math.min(x0, x1) - r - 1)), maxX = Math.min(this.width - 1, Math.ceil(Math.max(x0, x1) + r + 1));
    const minY = Math.max(0, Math.floor(Math.min(y0, y1) - r - 1)), maxY = Math.min(this.height - 1, Math.ceil(Math.max(y0, y1) + r + 1));
    const dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (let y = minY; y <= maxY; y++) {
      for (let x = minX; x <= maxX; x++) {
        let t = len2 > 0 ? ((x - x0) * dx + (y - y0) * dy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = x0 + t * dx - x, ey = y0 + t * dy - y;
        const dist = Math.sqrt(ex * ex + ey * ey);
        const cover = r + 0.5 - dist;
        if (cover > 0) this.blend(x, y, color, Math.min(1, cover));
      }
    }
  }

  /** A horizontal or vertical dashed 1-pixel line. */
  dashedLine(x0: number, y0: number, x1: number, y1: number, color: Color, dash = 4, gap = 3): void {
    const horizontal = y0 === y1;
    const a = horizontal ? Math.min(x0, x1) : Math.min(y0, y1), b = horizontal ? Math.max(x0, x1) : Math.max(y0, y1);
    for (let p = a; p <= b; p += dash + gap) {
      const e = Math.min(b, p + dash - 1);
      if (horizontal) this.fillRect(p, y0, e - p + 1, 1, color);
      else this.fillRect(x0, p, 1, e - p + 1, color);
    }
  }

  /** A filled disc centred at (cx, cy), anti-aliased. */
  fillCircle(cx: number, cy: number, radius: number, color: Color): void {
    this.line(cx, cy, cx, cy, color, radius * 2);
  }

  /**
   * Draws `text` with the built-in 5x7 font. The anchor (x, y) is the top of the capitals at the
   * start, centre or end of the text (see `align`); with `vertical`, the text reads upwards and its
   * capitals' tops face left, so (x, y) is then the left edge at the text's start/centre/end.
   */
  text(x: number, y: number, text: string, color: Color, options: TextOptions = {}): void {
    const s = Math.max(1, Math.round(options.scale ?? 1));
    const w = textWidth(text, s);
    const shift = options.align === 'center' ? Math.round(w / 2) : options.align === 'right' ? w : 0;
    x = Math.round(x); y = Math.round(y);
    let pen = 0;
    for (const ch of text) {
      for (const [gx, gy] of glyphPixels(ch)) {
        for (let sy = 0; sy < s; sy++) {
          for (let sx = 0; sx < s; sx++) {
            const u = pen + gx * s + sx - shift; // along the text
            const v = gy * s + sy;               // across the text, downwards from the capitals' top
            if (options.vertical) this.blend(x + v, y - u, color);
            else this.blend(x + u, y + v, color);
          }
        }
      }
      pen += CHAR_ADVANCE * s;
    }
  }

  /** Encodes the canvas as an 8-bit RGB PNG. */
  toPNG(): Buffer {
    const png = new PNG({ width: this.width, height: this.height });
    Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength).copy(png.data);
    return PNG.sync.write(png, { colorType: 2 });
  }
}
