/**
 * Activation codes shared by every kernel that fuses an activation (BatchNorm's epilogue...).
 * The activation op's own kernels (shaders/activation.wgsl) are declared by `defineOp` in
 * src/ops/activation.ts.
 */
export const Activation = { relu: 0, relu6: 1, hswish: 2, hsigmoid: 3, identity: 4 } as const;
export type ActivationName = keyof typeof Activation;
