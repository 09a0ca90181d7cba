// Requantization shared by the int8 kernels (docs/quantization.md, "Requantization"):
//   q = clamp(roundEven(f32(acc) * mult) + zp, lo, 127), then q = table[q + 128] when the layer's
//   activation is a table (h-swish, h-sigmoid). `lo` is the output zero point for a fused ReLU,
//   -128 otherwise. f32(acc) is exact for |acc| < 2^24 and the product is one correctly rounded
//   multiply, so a CPU reference (Math.fround) reproduces it bit for bit.
fn requant4(acc: vec4<i32>, mult: vec4<f32>, zp: i32, lo: i32) -> vec4<i32> {
  return clamp(vec4<i32>(round(vec4<f32>(acc) * mult)) + vec4<i32>(zp), vec4<i32>(lo), vec4<i32>(127));
}
