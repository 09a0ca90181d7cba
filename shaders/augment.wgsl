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

fn byte_at(i: u32) -> f32 {
  return f32((pixels[i >> 2u] >> ((i & 3u) * 8u)) & 255u);
}

fn rgb_at(n: u32, y: u32, x: u32) -> vec3f {
  let base = ((n * p.src + y) * p.src + x) * 3u;
  return vec3f(byte_at(base), byte_at(base + 1u), byte_at(base + 2u)) / 255.0;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 64u + lid;
  let per = p.dst * p.dst;
  if (i >= p.n * per) { return; }
  let n = i / per;
  let oy = (i % per) / p.dst;
  let ox = i % p.dst;
  let c = n * 8u;
  var u = (f32(ox) + 0.5) / f32(p.dst);
  if (crops[c + 4u] > 0.5) { u = 1.0 - u; }
  let v = (f32(oy) + 0.5) / f32(p.dst);
  // Pixel centres at +0.5: sample position in source pixel coordinates.
  let sx = clamp(crops[c] + u * crops[c + 2u] - 0.5, 0.0, f32(p.src - 1u));
  let sy = clamp(crops[c + 1u] + v * crops[c + 3u] - 0.5, 0.0, f32(p.src - 1u));
  let x0 = u32(floor(sx));
  let y0 = u32(floor(sy));
  let x1 = min(x0 + 1u, p.src - 1u);
  let y1 = min(y0 + 1u, p.src - 1u);
  let fx = sx - f32(x0);
  let fy = sy - f32(y0);
  let top = mix(rgb_at(n, y0, x0), rgb_at(n, y0, x1), fx);
  let bottom = mix(rgb_at(n, y1, x0), rgb_at(n, y1, x1), fx);
  var rgb = mix(top, bottom, fy);
  rgb = rgb * crops[c + 5u];
  rgb = (rgb - 0.5) * crops[c + 6u] + 0.5;
  let luma = dot(rgb, vec3f(0.299, 0.587, 0.114));
  rgb = clamp(luma + (rgb - luma) * crops[c + 7u], vec3f(0.0), vec3f(1.0));
  let o = i * 3u;
  out[o] = (rgb.x - p.m0) / p.s0;
  out[o + 1u] = (rgb.y - p.m1) / p.s1;
  out[o + 2u] = (rgb.z - p.m2) / p.s2;
}
