/** Files of a chosen folder with their relative paths: from `<input webkitdirectory>` or a drop. */
import type { PathEntry } from './scan-files.js';

export interface FolderListing {
  entries: PathEntry<File>[];
  /** Every folder seen (a drop lists empty ones; a file input cannot). */
  folders: string[];
}

/** The files of a directory input, with their paths (`webkitRelativePath`). */
export function fromFileList(list: FileList): FolderListing {
  const entries = [...list].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
  return { entries, folders: [] };
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries returns at most ~100 entries per call: read until it returns none.
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (!batch.length) return resolve(out);
        out.push(...batch);
        next();
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, prefix: string, out: FolderListing): Promise<void> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
    out.entries.push({ path, file });
  } else if (entry.isDirectory) {
    out.folders.push(path);
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, path, out);
  }
}

/** The files (and folders) of a drop: one folder, or several class folders at once. */
export async function fromDataTransfer(dt: DataTransfer): Promise<FolderListing> {
  const out: FolderListing = { entries: [], folders: [] };
  // Entries must be taken synchronously, before the first await: the DataTransfer empties after.
  const roots = [...dt.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (!roots.length) {
    for (const file of dt.files) out.entries.push({ path: file.name, file });
    return out;
  }
  for (const r of roots) await walk(r, '', out);
  return out;
}
