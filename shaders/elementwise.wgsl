// Elementwise arithmetic with broadcasting, and the sum over a middle axis that undoes it.
// Broadcast operands are indexed as [outer, mid, inner] with the mid axis collapsed:
// idx(i) = (i / (mid * inner)) * inner + i % inner. A full-size operand has mid = inner = 1.
// (wgsl_reflect sees a local that shadows a module-scope name as a use of it: keep names distinct.)
// Grids are 2-D (see gridFor in src/kernel/define-kernel.ts); the linear id is rebuilt here.

struct BinaryParams { n: u32, op: u32, a_mid: u32, a_inner: u32, b_mid: u32, b_inner: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: BinaryParams;

fn bidx(i: u32, mid: u32, inner: u32) -> u32 {
  return (i / (mid * inner)) * inner + i % inner;
}

@compute @workgroup_size(256)
fn binary(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= p.n) { return; }
  let x = a[bidx(i, p.a_mid, p.a_inner)];
  let y = b[bidx(i, p.b_mid, p.b_inner)];
  var res: f32;
  switch p.op {
    case 0u: { res = x + y; }
    case 1u: { res = x - y; }
    case 2u: { res = x * y; }
    default: { res = x / y; }
  }
  out[i] = res;
}

struct AffineParams { n: u32, scale: f32, shift: f32 }
@group(0) @binding(0) var<storage, read> x_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> y_out: array<f32>;
@group(0) @binding(2) var<uniform> q: AffineParams;

// y = x * scale + shift, scalars (negation, scaling by a constant, adding a constant).
@compute @workgroup_size(256)
fn affine(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= q.n) { return; }
  y_out[i] = x_in[i] * q.scale + q.shift;
}

struct ReduceParams { outer: u32, mid: u32, inner: u32, splits: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> r: ReduceParams;

// dst[o, s, j] = sum over m in chunk s of src[o, m, j]. With splits > 1 a second pass sums the splits.
@compute @workgroup_size(256)
fn reduce_mid(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (t >= r.outer * r.splits * r.inner) { return; }
  let j = t % r.inner;
  let s = (t / r.inner) % r.splits;
  let o = t / (r.inner * r.splits);
  let m0 = s * r.chunk;
  let m1 = min(r.mid, m0 + r.chunk);
  var acc = 0.0;
  var k = (o * r.mid + m0) * r.inner + j;
  for (var m = m0; m < m1; m++) {
    acc += src[k];
    k += r.inner;
  }
  dst[t] = acc;
}

struct ExpandParams { n: u32, mid: u32, inner: u32 }
@group(0) @binding(0) var<storage, read> e_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> e_out: array<f32>;
@group(0) @binding(2) var<uniform> e: ExpandParams;

// Materialises a broadcast: e_out[i] = e_in[idx(i)] (the backward of a sum).
@compute @workgroup_size(256)
fn expand(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= e.n) { return; }
  e_out[i] = e_in[(i / (e.mid * e.inner)) * e.inner + i % e.inner];
}
