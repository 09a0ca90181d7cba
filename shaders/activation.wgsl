// Pointwise nonlinearities of MobileNetV3 and their derivatives.
// kind: 0 ReLU, 1 ReLU6, 2 h-swish x*relu6(x+3)/6, 3 h-sigmoid relu6(x+3)/6, 4 identity.

struct Params { n: u32, kind: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn act(v: f32, kind: u32) -> f32 {
  switch kind {
    case 0u: { return max(v, 0.0); }
    case 1u: { return clamp(v, 0.0, 6.0); }
    case 2u: { return v * clamp(v + 3.0, 0.0, 6.0) / 6.0; }
    case 3u: { return clamp(v + 3.0, 0.0, 6.0) / 6.0; }
    default: { return v; }
  }
}

// Derivative; at the kinks the right-hand value, as PyTorch's hardswish_backward
// (open interval -3 < x < 3 for the ramps).
fn dact(v: f32, kind: u32) -> f32 {
  switch kind {
    case 0u: { return select(0.0, 1.0, v > 0.0); }
    case 1u: { return select(0.0, 1.0, v > 0.0 && v < 6.0); }
    case 2u: {
      if (v < -3.0) { return 0.0; }
      if (v > 3.0) { return 1.0; }
      return (2.0 * v + 3.0) / 6.0;
    }
    case 3u: { return select(0.0, 1.0 / 6.0, v > -3.0 && v < 3.0); }
    default: { return 1.0; }
  }
}

@compute @workgroup_size(256)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= p.n) { return; }
  y[i] = act(x[i], p.kind);
}

@group(0) @binding(0) var<storage, read> bx: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> q: Params;

@compute @workgroup_size(256)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (i >= q.n) { return; }
  dx[i] = dy[i] * dact(bx[i], q.kind);
}
