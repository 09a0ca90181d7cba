// Global average pooling over NHWC: x [N, H*W, C] -> y [N, C], and its backward.
// Compiled twice (kernels/vec.ts puts the line first): `alias V = vec4f;` when C % 4 == 0, else
// `alias V = f32;`; `cv` in the uniforms is C in elements of V.
// Grids are 2-D (gridFor in src/kernel/define-kernel.ts); linear ids are rebuilt from workgroup ids.

// dst[o, c] = scale * sum_m src[o, m, c] for src [outer, mid, C]. The op either runs this on x
// directly (mid = H*W) or on partial sums from reduce_mid when H*W is long and N*C small.
struct GapParams { outer: u32, mid: u32, cv: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> gsrc: array<V>;
@group(0) @binding(1) var<storage, read_write> gdst: array<V>;
@group(0) @binding(2) var<uniform> gp: GapParams;

@compute @workgroup_size(64)
fn gap_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= gp.outer * gp.cv) { return; }
  let o = t / gp.cv;
  let g = t - o * gp.cv;
  var acc = array<V, 2>(V(0.0), V(0.0));
  var k = o * gp.mid * gp.cv + g;
  let end = k + gp.mid * gp.cv;
  for (; k + gp.cv < end; k += 2u * gp.cv) {
    acc[0] += gsrc[k];
    acc[1] += gsrc[k + gp.cv];
  }
  if (k < end) { acc[0] += gsrc[k]; }
  gdst[t] = (acc[0] + acc[1]) * gp.scale;
}

// dx[n, hw, c] = scale * dy[n, c]. Thread = (n, block of `rows` positions, channel group): dy is
// loaded once per thread, and no index is divided per element.
struct GapBackParams { n: u32, hw: u32, cv: u32, rows: u32, blocks: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> gdy: array<V>;
@group(0) @binding(1) var<storage, read_write> gdx: array<V>;
@group(0) @binding(2) var<uniform> gq: GapBackParams;

@compute @workgroup_size(64)
fn gap_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= gq.n * gq.blocks * gq.cv) { return; }
  let q = t / gq.cv;
  let g = t - q * gq.cv;
  let nb = q / gq.blocks;
  let p0 = (q - nb * gq.blocks) * gq.rows;
  let v = gdy[nb * gq.cv + g] * gq.scale;
  var k = (nb * gq.hw + p0) * gq.cv + g;
  let end = (nb * gq.hw + min(gq.hw, p0 + gq.rows)) * gq.cv;
  for (; k < end; k += gq.cv) {
    gdx[k] = v;
  }
}
