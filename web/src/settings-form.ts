/**
 * The settings form: the CLI's four parameters (and image size, validation split, recipe) with its
 * defaults, recommended ranges and refusals, taken from the library (trainDefaults, trainRanges,
 * checkOptions, recommendRecipe) so the page and `mobilegrad train` cannot drift apart.
 */
import { checkOptions, recommendRecipe, trainDefaults, trainRanges, UsageError, type Recipe, type TrainOptions } from '../../src/index.js';

export interface FormValues {
  recipe: 'none' | 'auto';
  batchSize: number;
  epochs: number;
  lr: number;
  imageSize: number;
  valSplit: number;
  quantize: boolean;
}

export interface Checked {
  values: FormValues;
  /** The recipe for the dataset's size (its augmentation level is used in any case). */
  recipe: Recipe | null;
  warnings: string[];
  /** Why the values cannot be used, or null. */
  error: string | null;
}

const LABELS: Record<string, string> = {
  '--batch-size': 'Batch size',
  '--epochs': 'Epochs',
  '--lr': 'Learning rate',
  '--image-size': 'Image size',
  '--val-split': 'Validation split',
};

/** The CLI's messages with its flags named as the page's fields. */
export function inPageWords(message: string): string {
  return message.replace(/--[a-z-]+/g, (flag) => LABELS[flag] ?? flag);
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Puts the CLI's defaults into the form. */
export function fillDefaults(): void {
  $<HTMLInputElement>('batch-size').value = String(trainDefaults.batchSize);
  $<HTMLInputElement>('epochs').value = String(trainDefaults.epochs);
  $<HTMLInputElement>('learning-rate').value = String(trainDefaults.lr);
  $<HTMLInputElement>('image-size').value = String(trainDefaults.imageSize);
  $<HTMLInputElement>('val-split').value = String(trainDefaults.valSplit);
  $<HTMLSelectElement>('recipe').value = trainDefaults.recipe;
  $<HTMLInputElement>('quantize').checked = trainDefaults.quantize;
}

function num(id: string): number {
  const v = $<HTMLInputElement>(id).value.trim();
  return v === '' ? NaN : Number(v);
}

/**
 * Reads and checks the form for a dataset of `imageCount` images (null before a folder is chosen).
 * With the auto recipe, batch size, epochs and learning rate are set from it (and shown).
 */
export function readForm(imageCount: number | null): Checked {
  const recipeMode = $<HTMLSelectElement>('recipe').value === 'auto' ? 'auto' : 'none';
  const recipe = imageCount !== null ? recommendRecipe(imageCount) : null;
  const auto = recipeMode === 'auto';
  for (const id of ['batch-size', 'epochs', 'learning-rate']) $<HTMLInputElement>(id).disabled = auto && !!recipe;
  if (auto && recipe) {
    $<HTMLInputElement>('batch-size').value = String(recipe.batchSize);
    $<HTMLInputElement>('epochs').value = String(recipe.epochs);
    $<HTMLInputElement>('learning-rate').value = String(recipe.lr);
  }
  const values: FormValues = {
    recipe: recipeMode,
    batchSize: num('batch-size'),
    epochs: num('epochs'),
    lr: num('learning-rate'),
    imageSize: num('image-size'),
    valSplit: num('val-split'),
    quantize: $<HTMLInputElement>('quantize').checked,
  };
  const options: TrainOptions = { ...trainDefaults, data: '', ...values };
  let warnings: string[] = [];
  let error: string | null = null;
  try {
    warnings = checkOptions(options).map(inPageWords);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    error = inPageWords(e.message);
  }
  const marks: [string, number, readonly [number, number]][] = [
    ['batch-size', values.batchSize, trainRanges.batchSize],
    ['epochs', values.epochs, trainRanges.epochs],
    ['learning-rate', values.lr, trainRanges.lr],
  ];
  for (const [id, v, [lo, hi]] of marks) $(id).classList.toggle('out-of-range', v < lo || v > hi);
  return { values, recipe, warnings, error };
}
