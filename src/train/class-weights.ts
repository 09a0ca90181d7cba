/** Class weights for imbalanced data (`--class-weights auto`). */

/**
 * "Balanced" weights, as scikit-learn's `compute_class_weight('balanced')`: w_c = n / (K * n_c) over
 * the training images, so every class contributes the same total weight to the loss. A class with
 * no training image gets weight 0 (it cannot be learned anyway).
 */
export function balancedClassWeights(labels: ArrayLike<number>, indices: readonly number[], numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const i of indices) counts[labels[i]!]!++;
  const n = indices.length;
  return counts.map((c) => (c > 0 ? n / (numClasses * c) : 0));
}
