// The backward of act(x · w + b) where the activation's derivative follows from its output y
// (relu, relu6, hsigmoid, identity): dz = g * act'(y) and the bias gradient db = sum over rows of
// dz, in one pass. One thread per column group walks every row (the rows are a batch: a few
// dozen), so the sum needs no barrier (on CPU adapters a barrier runs the shader as coroutines).
// KIND: the activation (kernels/activation.ts codes). V is f32 or vec4f (kernels/vec.ts).

override KIND: u32 = 4u;

struct LaParams { rows: u32, nv: u32 }
@group(0) @binding(0) var<storage, read> la_g: array<V>;
@group(0) @binding(1) var<storage, read> la_y: array<V>;
@group(0) @binding(2) var<storage, read_write> la_dz: array<V>;
@group(0) @binding(3) var<storage, read_write> la_db: array<V>;
@group(0) @binding(4) var<uniform> lap: LaParams;

// act'(z) from y = act(z): 1 where the activation is not flat at y, else 0 (1/6 for hsigmoid).
fn la_dact(y: V) -> V {
  switch KIND {
    case 0u: { return select(V(0.0), V(1.0), y > V(0.0)); }
    case 1u: { return select(V(0.0), V(1.0), (y > V(0.0)) & (y < V(6.0))); }
    case 3u: { return select(V(0.0), V(1.0 / 6.0), (y > V(0.0)) & (y < V(1.0))); }
    default: { return V(1.0); }
  }
}

@compute @workgroup_size(8)
fn bias_act_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = (wid.y * nwg.x + wid.x) * 8u + lid;
  if (j >= lap.nv) { return; }
  var db = V(0.0);
  for (var r = 0u; r < lap.rows; r++) {
    let i = r * lap.nv + j;
    let dz = la_g[i] * la_dact(la_y[i]);
    la_dz[i] = dz;
    db += dz;
  }
  la_db[j] = db;
}
