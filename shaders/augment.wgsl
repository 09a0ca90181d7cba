// Batch preparation on the GPU: 8-bit RGB images (NHWC, packed 4 bytes to a u32) ->
// random resized crop (bilinear), horizontal flip, colour jitter, ImageNet normalisation,
// float32 NHWC output. Per-sample parameters (8 floats each):
//   x0, y0, w, h   crop rectangle in source pixels (a full image is 0, 0, S, S)
//   flip           1 to mirror horizontally
//   brightness     multiplicative factor (1 = none)
//   contrast       factor around mid-grey 0.5 (1 = none)
//   saturation     factor around the pixel's luma (1 = none)

struct Params { n: u32, src: u32, dst: u32, m0: f32, m1: f32, m2: f32, s0: f32, s1: f32, s2: f32 }

@group(0) @binding(0) var<storage, read> pixels: array<u32>;
@group(0) @binding(1) var<storage, read> crops: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// One thread = one output row segment of OB columns: the sample's parameters, the row's source
// rows and weights are loaded and computed once (no per-pixel integer division), and each
// bilinear row pair of taps (6 adjacent bytes: pixels x0 and x0 + 1) comes from three u32 loads
// instead of six byte loads. On lavapipe every buffer load is a bounds-checked per-lane load, the
// cost that dominates this kernel; the arithmetic is the same as per pixel before (same results).
const OB = 8u;

// Byte k (0..8) of the 12 bytes in words w0, w1, w2.
fn byte_of(w0: u32, w1: u32, w2: u32, k: u32) -> f32 {
  let w = select(select(w0, w1, k >= 4u), w2, k >= 8u);
  return f32((w >> ((k & 3u) * 8u)) & 255u);
}

// Pixels x0 and x1 (x1 == x0 or x0 + 1) of source row `row` (its first byte index), as RGB / 255.
struct Taps { a: vec3f, b: vec3f }
fn taps(row: u32, x0: u32, x1: u32) -> Taps {
  let b0 = row + x0 * 3u;
  let q = b0 >> 2u;
  // A clamp only (the buffer may be longer than the images): a word past the last byte is loaded
  // at the end of a row but never used.
  let last = arrayLength(&pixels) - 1u;
  let w0 = pixels[q];
  let w1 = pixels[min(q + 1u, last)];
  let w2 = pixels[min(q + 2u, last)];
  let k = b0 & 3u;
  let a = vec3f(byte_of(w0, w1, w2, k), byte_of(w0, w1, w2, k + 1u), byte_of(w0, w1, w2, k + 2u)) / 255.0;
  let kb = k + 3u * (x1 - x0);
  let b = vec3f(byte_of(w0, w1, w2, kb), byte_of(w0, w1, w2, kb + 1u), byte_of(w0, w1, w2, kb + 2u)) / 255.0;
  return Taps(a, b);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  let blocks = (p.dst + OB - 1u) / OB;
  if (t >= p.n * p.dst * blocks) { return; }
  let r = t / blocks;
  let bx = t - r * blocks;
  let n = r / p.dst;
  let oy = r - n * p.dst;
  let c = n * 8u;
  let cx = crops[c];
  let cw = crops[c + 2u];
  let flip = crops[c + 4u] > 0.5;
  let bright = crops[c + 5u];
  let contrast = crops[c + 6u];
  let sat = crops[c + 7u];
  let v = (f32(oy) + 0.5) / f32(p.dst);
  // Pixel centres at +0.5: sample position in source pixel coordinates.
  let sy = clamp(crops[c + 1u] + v * crops[c + 3u] - 0.5, 0.0, f32(p.src - 1u));
  let y0 = u32(floor(sy));
  let y1 = min(y0 + 1u, p.src - 1u);
  let fy = sy - f32(y0);
  let row0 = (n * p.src + y0) * p.src * 3u;
  let row1 = (n * p.src + y1) * p.src * 3u;
  let ox0 = bx * OB;
  let end = min(ox0 + OB, p.dst);
  for (var ox = ox0; ox < end; ox++) {
    var u = (f32(ox) + 0.5) / f32(p.dst);
    if (flip) { u = 1.0 - u; }
    let sx = clamp(cx + u * cw - 0.5, 0.0, f32(p.src - 1u));
    let x0 = u32(floor(sx));
    let x1 = min(x0 + 1u, p.src - 1u);
    let fx = sx - f32(x0);
    let t0 = taps(row0, x0, x1);
    let t1 = taps(row1, x0, x1);
    let top = mix(t0.a, t0.b, fx);
    let bottom = mix(t1.a, t1.b, fx);
    var rgb = mix(top, bottom, fy);
    rgb = rgb * bright;
    rgb = (rgb - 0.5) * contrast + 0.5;
    let luma = dot(rgb, vec3f(0.299, 0.587, 0.114));
    rgb = clamp(luma + (rgb - luma) * sat, vec3f(0.0), vec3f(1.0));
    let o = (r * p.dst + ox) * 3u;
    out[o] = (rgb.x - p.m0) / p.s0;
    out[o + 1u] = (rgb.y - p.m1) / p.s1;
    out[o + 2u] = (rgb.z - p.m2) / p.s2;
  }
}
