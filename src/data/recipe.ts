/** How strongly training images are augmented: `max` for the smallest datasets, `standard` for large ones. */
export type AugmentationLevel = 'max' | 'heavy' | 'standard';

/** Training settings recommended for a dataset size, with the reasons in words. */
export interface Recipe {
  lr: number;
  epochs: number;
  batchSize: number;
  augmentation: AugmentationLevel;
  /** One sentence per decision, for the CLI and the report. */
  reasons: string[];
}

/**
 * The size-based recipe of the product brief:
 *
 * | images       | lr    | epochs          | batch | augmentation |
 * |--------------|-------|-----------------|-------|--------------|
 * | under 500    | 5e-4  | 80 (60-100)     | 16    | max          |
 * | 500-1,999    | 1e-3  | 40 (30-50)      | 32    | heavy        |
 * | 2,000-5,000  | 1e-3  | 25 (20-30)      | 64    | standard     |
 * | over 5,000   | as 2,000-5,000, noting that a larger model would serve better |
 *
 * Below the 200-image minimum (only reachable with --allow-small) the smallest-data recipe is used
 * with a warning among the reasons.
 */
export function recommendRecipe(numImages: number): Recipe {
  const n = Math.max(0, Math.floor(numImages));
  const count = n.toLocaleString('en-US');
  if (n < 500) {
    const reasons = [
      `${count} images is a small dataset (200-500): a low learning rate (5e-4) and small batches (16) keep updates gentle,`
        + ' with 80 epochs (range 60-100) to see each image often.',
      'Maximum augmentation, because with this few images the model overfits quickly.',
    ];
    if (n < 200) reasons.unshift(`${count} images is below the 200-image minimum: expect unreliable accuracy; more images help more than any setting.`);
    if (n > 0 && n < 32) reasons.push(`With ${count} images a batch of 16 is most of the dataset.`);
    return { lr: 5e-4, epochs: 80, batchSize: 16, augmentation: 'max', reasons };
  }
  if (n < 2000) {
    return {
      lr: 1e-3, epochs: 40, batchSize: 32, augmentation: 'heavy',
      reasons: [
        `${count} images is the best-suited size for MobileNetV3-Small (500-2,000): learning rate 1e-3, batch 32, 40 epochs (range 30-50).`,
        'Heavy augmentation, since the dataset is still small enough to overfit.',
      ],
    };
  }
  const reasons = [
    `${count} images is a large dataset (2,000+): learning rate 1e-3 with batches of 64, and 25 epochs (range 20-30) suffice.`,
    'Standard augmentation: enough real variety that strong distortion is no longer needed.',
  ];
  if (n > 5000) reasons.push(`Over 5,000 images, a larger model than MobileNetV3-Small would likely reach higher accuracy.`);
  return { lr: 1e-3, epochs: 25, batchSize: 64, augmentation: 'standard', reasons };
}
