// Global average pooling over NHWC: x [N, H*W, C] -> y [N, C], and its backward.
// Grids are 2-D (gridFor in src/kernel/define-kernel.ts); linear ids are rebuilt from workgroup ids.

// dst[o, c] = scale * sum_m src[o, m, c] for src [outer, mid, C]. The op either runs this on x
// directly (mid = H*W) or on partial sums from reduce_mid when H*W is long and N*C small.
struct GapParams { outer: u32, mid: u32, c: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> gsrc: array<f32>;
@group(0) @binding(1) var<storage, read_write> gdst: array<f32>;
@group(0) @binding(2) var<uniform> gp: GapParams;

@compute @workgroup_size(256)
fn gap_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (t >= gp.outer * gp.c) { return; }
  let ch = t % gp.c;
  let o = t / gp.c;
  var acc = 0.0;
  var k = o * gp.mid * gp.c + ch;
  for (var m = 0u; m < gp.mid; m++) {
    acc += gsrc[k];
    k += gp.c;
  }
  gdst[t] = acc * gp.scale;
}

// dx[n, hw, c] = scale * dy[n, c].
struct GapBackParams { n: u32, hwc: u32, c: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> gdy: array<f32>;
@group(0) @binding(1) var<storage, read_write> gdx: array<f32>;
@group(0) @binding(2) var<uniform> gq: GapBackParams;

@compute @workgroup_size(256)
fn gap_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= gq.n) { return; }
  gdx[i] = gdy[(i / gq.hwc) * gq.c + i % gq.c] * gq.scale;
}
