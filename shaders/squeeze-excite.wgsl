// Squeeze-and-excitation's input gradient in one pass. x feeds the block twice: scaled by the gate
// (y = x * gate[n, c]) and pooled (the gate's input). Its gradient is therefore
//   dx[n, p, c] = g[n, p, c] * gate[n, c] + dpooled[n, c] / (H*W),
// which separate ops compute as three full-size passes (the product's gradient, the pool's
// broadcast, their sum); here one thread walks a run of positions of one channel group.
// Compiled at two widths (kernels/vec.ts: `alias V` first). Grids are 2-D (grid1d).

struct SeParams { n: u32, hw: u32, cv: u32, rows: u32, blocks: u32, scale: f32 }
@group(0) @binding(0) var<storage, read> se_g: array<V>;
@group(0) @binding(1) var<storage, read> se_gate: array<V>;
@group(0) @binding(2) var<storage, read> se_dpool: array<V>;
@group(0) @binding(3) var<storage, read_write> se_dx: array<V>;
@group(0) @binding(4) var<uniform> sep: SeParams;

@compute @workgroup_size(64)
fn se_backward_x(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= sep.n * sep.blocks * sep.cv) { return; }
  let q = t / sep.cv;
  let g = t - q * sep.cv;
  let nb = q / sep.blocks;
  let p0 = (q - nb * sep.blocks) * sep.rows;
  let gate = se_gate[nb * sep.cv + g];
  let add = se_dpool[nb * sep.cv + g] * sep.scale;
  var k = (nb * sep.hw + p0) * sep.cv + g;
  let end = (nb * sep.hw + min(sep.hw, p0 + sep.rows)) * sep.cv;
  for (; k < end; k += sep.cv) {
    se_dx[k] = fma(se_g[k], gate, add);
  }
}
