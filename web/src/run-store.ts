/**
 * The run kept in the browser's Origin Private File System, so a closed or reloaded tab loses
 * nothing: the decoded images (8-bit, written once when training starts), the checkpoint blob
 * (model, optimizer, position: src/train/checkpoint.ts, written after every epoch and on pause or
 * stop), the best epoch's weights (the model the run hands out, as the CLI does) and a small
 * meta.json for the "resume?" offer. Each file is written through
 * createWritable, which the browser commits atomically on close: a tab killed mid-write keeps the
 * previous version.
 */
import type { EpochMetrics } from '../../src/index.js';
import type { RunSettings, SavedRunInfo } from './protocol.js';

const DIR = 'mobilegrad-run';
const CHUNK = 16 << 20;

export interface StoredDataset {
  images: Uint8Array;
  labels: Int32Array;
  paths: string[];
}

async function runDir(create: boolean): Promise<FileSystemDirectoryHandle | null> {
  const root = await navigator.storage.getDirectory();
  try {
    return await root.getDirectoryHandle(DIR, { create });
  } catch (e) {
    if ((e as DOMException).name === 'NotFoundError') return null;
    throw e;
  }
}

async function writeFile(dir: FileSystemDirectoryHandle, name: string, data: Uint8Array | string): Promise<void> {
  const handle = await dir.getFileHandle(name, { create: true });
  const w = await handle.createWritable();
  try {
    if (typeof data === 'string') await w.write(data);
    // In slices: one write of a large array is copied whole on its way to storage (753 MB of images at 5,000 x 224 px).
    else for (let at = 0; at < data.byteLength || at === 0; at += CHUNK) await w.write(data.subarray(at, at + CHUNK) as Uint8Array<ArrayBuffer>);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => {});
    throw e;
  }
}

async function readFile(dir: FileSystemDirectoryHandle, name: string): Promise<File> {
  return (await dir.getFileHandle(name)).getFile();
}

/** True where this browser gives workers an Origin Private File System. */
export function hasStorage(): boolean {
  return typeof navigator !== 'undefined' && !!navigator.storage?.getDirectory;
}

/** Replaces any saved run with a new one: its images first, its meta.json last. */
export async function saveNewRun(settings: RunSettings, data: StoredDataset): Promise<void> {
  await discardRun();
  const dir = (await runDir(true))!;
  await writeFile(dir, 'images.bin', data.images);
  await writeFile(dir, 'labels.bin', new Uint8Array(data.labels.buffer, data.labels.byteOffset, data.labels.byteLength));
  await writeFile(dir, 'paths.json', JSON.stringify(data.paths));
  await writeMeta({ savedAt: new Date().toISOString(), settings, epoch: 0, imageCount: data.labels.length, finished: false, history: [] });
}

/** Keeps the best epoch's weights (model.safetensors bytes): the model the run will hand out. */
export async function saveBest(weights: Uint8Array): Promise<void> {
  const dir = await runDir(false);
  if (!dir) throw new Error('the saved run disappeared from browser storage (cleared by the browser or another tab?)');
  await writeFile(dir, 'best.safetensors', weights);
}

/** Writes the checkpoint blob, then the meta that describes it. */
export async function saveCheckpoint(blob: Uint8Array, epoch: number, history: EpochMetrics[], finished: boolean): Promise<void> {
  const dir = await runDir(false);
  const meta = await readMeta();
  if (!dir || !meta) throw new Error('the saved run disappeared from browser storage (cleared by the browser or another tab?)');
  await writeFile(dir, 'checkpoint.safetensors', blob);
  await writeMeta({ ...meta, savedAt: new Date().toISOString(), epoch, history, finished });
}

async function writeMeta(meta: SavedRunInfo): Promise<void> {
  await writeFile((await runDir(true))!, 'meta.json', JSON.stringify(meta));
}

/** The saved run's description, or null when there is none. */
export async function readMeta(): Promise<SavedRunInfo | null> {
  const dir = await runDir(false);
  if (!dir) return null;
  try {
    return JSON.parse(await (await readFile(dir, 'meta.json')).text()) as SavedRunInfo;
  } catch {
    return null;
  }
}

/** The saved images, the checkpoint blob and the best epoch's weights (null until written). */
export async function loadRun(): Promise<{ meta: SavedRunInfo; data: StoredDataset; checkpoint: Uint8Array | null; best: Uint8Array | null }> {
  const dir = await runDir(false);
  const meta = await readMeta();
  if (!dir || !meta) throw new Error('no saved run in browser storage');
  const images = new Uint8Array(await (await readFile(dir, 'images.bin')).arrayBuffer());
  const labels = new Int32Array(await (await readFile(dir, 'labels.bin')).arrayBuffer());
  const paths = JSON.parse(await (await readFile(dir, 'paths.json')).text()) as string[];
  const per = meta.settings.imageSize * meta.settings.imageSize * 3;
  if (labels.length !== meta.imageCount || images.length !== meta.imageCount * per) {
    throw new Error(`the saved images are incomplete (${images.length} bytes for ${meta.imageCount} images): discard the saved run and start again`);
  }
  const optional = async (name: string) => {
    try {
      return new Uint8Array(await (await readFile(dir, name)).arrayBuffer());
    } catch {
      return null;
    }
  };
  return { meta, data: { images, labels, paths }, checkpoint: await optional('checkpoint.safetensors'), best: await optional('best.safetensors') };
}

/** Deletes the saved run, if any. */
export async function discardRun(): Promise<void> {
  const root = await navigator.storage.getDirectory();
  await root.removeEntry(DIR, { recursive: true }).catch((e: DOMException) => {
    if (e.name !== 'NotFoundError') throw e;
  });
}

export type { RunSettings };
