// Elementwise arithmetic with broadcasting, and the sum over a middle axis that undoes it.
// Compiled twice (kernels/vec.ts puts the line first): `alias V = vec4f;` when every row below is
// a multiple of 4 floats, `alias V = f32;` otherwise; sizes and strides in the uniforms count V
// elements. On lavapipe integer division is scalarised (no vector divide), so threads walk rows
// with precomputed strides and divide only once, for their own position.
// (wgsl_reflect sees a local that shadows a module-scope name as a use of it: keep names distinct.)
// Grids are 2-D (see gridFor in src/kernel/define-kernel.ts); the linear id is rebuilt here.

// ---- binary: out = a op b on the output viewed as [outer, mid, inner] --------------------------
// Operand element (o, m, j) is at o * os + m * ms + j: a full-size operand has os = mid * inner,
// ms = inner; one broadcast along mid (an SE gate [N,1,1,C], a [C] vector) has os = inner, ms = 0.
// Thread = (o, block of `rows` mid rows, j): a broadcast operand is loaded once per thread.
// OP: 0 add, 1 sub, 2 mul, 3 div, 4 copy a (b is not read).
override OP: u32 = 0u;

struct RowsParams { outer: u32, mid: u32, inner: u32, rows: u32, blocks: u32, a_os: u32, a_ms: u32, b_os: u32, b_ms: u32 }
@group(0) @binding(0) var<storage, read> ra: array<V>;
@group(0) @binding(1) var<storage, read> rb: array<V>;
@group(0) @binding(2) var<storage, read_write> rout: array<V>;
@group(0) @binding(3) var<uniform> rp: RowsParams;

fn apply_op(x: V, y: V) -> V {
  switch OP {
    case 0u: { return x + y; }
    case 1u: { return x - y; }
    case 2u: { return x * y; }
    case 3u: { return x / y; }
    default: { return x; }
  }
}

@compute @workgroup_size(64)
fn binary_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= rp.outer * rp.blocks * rp.inner) { return; }
  let q = t / rp.inner;
  let j = t - q * rp.inner;
  let o = q / rp.blocks;
  let m0 = (q - o * rp.blocks) * rp.rows;
  let m1 = min(rp.mid, m0 + rp.rows);
  var ia = o * rp.a_os + m0 * rp.a_ms + j;
  var ib = o * rp.b_os + m0 * rp.b_ms + j;
  var io = (o * rp.mid + m0) * rp.inner + j;
  for (var m = m0; m < m1; m++) {
    var y = V(0.0);
    if (OP != 4u) { y = rb[ib]; }
    rout[io] = apply_op(ra[ia], y);
    ia += rp.a_ms;
    ib += rp.b_ms;
    io += rp.inner;
  }
}

// ---- binary, any broadcast: the general fallback -----------------------------------------------
// Operands indexed as [outer, mid, inner] with the mid axis collapsed:
// idx(i) = (i / (mid * inner)) * inner + i % inner (a full-size operand has mid = inner = 1).
// Two divisions per element: only for operand pairs binary_rows does not cover.
struct BinaryParams { n: u32, op: u32, a_mid: u32, a_inner: u32, b_mid: u32, b_inner: u32 }

@group(0) @binding(0) var<storage, read> a: array<V>;
@group(0) @binding(1) var<storage, read> b: array<V>;
@group(0) @binding(2) var<storage, read_write> out: array<V>;
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
  var res: V;
  switch p.op {
    case 0u: { res = x + y; }
    case 1u: { res = x - y; }
    case 2u: { res = x * y; }
    default: { res = x / y; }
  }
  out[i] = res;
}

struct AffineParams { n: u32, scale: f32, shift: f32 }
@group(0) @binding(0) var<storage, read> x_in: array<V>;
@group(0) @binding(1) var<storage, read_write> y_out: array<V>;
@group(0) @binding(2) var<uniform> af: AffineParams;

// y = x * scale + shift, scalars (negation, scaling by a constant, adding a constant).
@compute @workgroup_size(256)
fn affine(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= af.n) { return; }
  y_out[i] = x_in[i] * af.scale + af.shift;
}

// ---- reduce_mid: dst[o, s, j] = sum over m in chunk s of src[o, m, j] (* src2[o, m, j]) ---------
// With splits > 1 a second pass sums the splits. PRODUCT multiplies by src2 first (the gradient of
// a broadcast multiply without materialising the product); otherwise src2 is not read.
// Thread = (o, s, j); four interleaved accumulators (independent adds, shorter running sums).
override PRODUCT: bool = false;

struct ReduceParams { outer: u32, mid: u32, inner: u32, splits: u32, chunk: u32 }
@group(0) @binding(0) var<storage, read> src: array<V>;
@group(0) @binding(1) var<storage, read> src2: array<V>;
@group(0) @binding(2) var<storage, read_write> dst: array<V>;
@group(0) @binding(3) var<uniform> r: ReduceParams;

fn term(k: u32) -> V {
  if (PRODUCT) { return src[k] * src2[k]; }
  return src[k];
}

@compute @workgroup_size(64)
fn reduce_mid(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.y * nwg.x + wid.x) * 64u + lid;
  if (t >= r.outer * r.splits * r.inner) { return; }
  let q = t / r.inner;
  let j = t - q * r.inner;
  let o = q / r.splits;
  let s = q - o * r.splits;
  let m0 = s * r.chunk;
  let m1 = min(r.mid, m0 + r.chunk);
  let step = r.inner;
  var k = (o * r.mid + m0) * step + j;
  let end = (o * r.mid + m1) * step + j;
  var acc = array<V, 4>(V(0.0), V(0.0), V(0.0), V(0.0));
  for (; k + 3u * step < end; k += 4u * step) {
    acc[0] += term(k);
    acc[1] += term(k + step);
    acc[2] += term(k + 2u * step);
    acc[3] += term(k + 3u * step);
  }
  for (var e = 0u; k < end; k += step) {
    acc[e] += term(k);
    e++;
  }
  dst[t] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
}
