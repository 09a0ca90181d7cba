/**
 * Activation codes shared by every kernel that fuses an activation (BatchNorm's epilogue...).
 * The activation op's own kernels (shaders/activation.wgsl) are declared by `defineOp` in
 * src/ops/activation.ts.
 */
export const Activation = { relu: 0, relu6: 1, hswish: 2, hsigmoid: 3, identity: 4 } as const;
export type ActivationName = keyof typeof Activation;

/**
 * WGSL of `fn <name>(v: T) -> T`: the activation chosen by `kind` (an override constant's name,
 * so the switch folds away at pipeline creation), per component. Appended to the sources of the
 * kernels that fuse an activation (BatchNorm, the inference epilogue, gemv): WGSL has no includes.
 * Same definitions as shaders/activation.wgsl. (The parameter's name is prefixed: wgsl_reflect
 * would take a parameter named like one of the kernel's bindings for a use of that binding.)
 */
export function activationWgsl(name: string, type: string, kind: string): string {
  const T = type;
  return `
fn ${name}(act_v: ${T}) -> ${T} {
  switch ${kind} {
    case 0u: { return max(act_v, ${T}(0.0)); }
    case 1u: { return clamp(act_v, ${T}(0.0), ${T}(6.0)); }
    case 2u: { return act_v * clamp(act_v + 3.0, ${T}(0.0), ${T}(6.0)) / 6.0; }
    case 3u: { return clamp(act_v + 3.0, ${T}(0.0), ${T}(6.0)) / 6.0; }
    default: { return act_v; }
  }
}
`;
}
