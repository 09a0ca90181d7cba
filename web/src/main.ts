/**
 * The page: choose a folder, check it, set the parameters, train in the worker (worker.ts), watch
 * the curves, read the results, download or load a model and try it on images. All GPU work and
 * all image data live in the worker; this thread only draws.
 */
import { trainDefaults, type EpochMetrics, type StepInfo } from '../../src/index.js';
import { drawChart, type Series } from './charts.js';
import { fromDataTransfer, fromFileList, type FolderListing } from './folder-files.js';
import type { EvalView, FinalMetrics, FromWorker, MemoryView, Prediction, RunSettings, SavedRunInfo, ToWorker } from './protocol.js';
import { renderConfusion, renderMisclassified, renderPerClass } from './results-view.js';
import { IMAGE_EXTENSIONS, judge, scanPaths, type ScanOutcome } from './scan-files.js';
import { fillDefaults, readForm, type Checked } from './settings-form.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const NO_WEBGPU_HELP =
  'This browser gives the page no WebGPU, which training needs. It works in Chrome and Edge 113 or newer on Windows, macOS ' +
  'and ChromeOS (Android: Chrome 121+); on Linux start Chrome or Chromium with --enable-unsafe-webgpu --enable-features=Vulkan. ' +
  'Safari 26 and Firefox 141 (Windows) ship WebGPU too; other Firefox builds need dom.webgpu.enabled in about:config. ' +
  'The page must come from https:// or from localhost / 127.0.0.1 (`npm run web`).';

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker) => worker.postMessage(m);

// ---- state ----
let listing: FolderListing | null = null;
let scan: ScanOutcome<File> | null = null;
let decodeJob = 0;
/** The last finished decode: its size and what it found. */
let decoded: { job: number; imageSize: number; perClass: number[]; skipped: { path: string; reason: string }[]; bytes: number } | null = null;
let gpuOk: boolean | null = null;
let phase: 'idle' | 'training' | 'paused' | 'stopping' | 'finished' = 'idle';
let startWhenDecoded = false;
let runSettings: RunSettings | null = null;
let stepsPerEpoch = 1;
let lastEpochSeconds = 0;
let hasModel = false;
let hasInt8 = false;
let thumbUrls: string[] = [];
const curves = { stepLoss: [] as [number, number][], stepAcc: [] as [number, number][], history: [] as EpochMetrics[] };

// ---- status line ----
function setStatus(text: string, kind: '' | 'error' | 'done' = ''): void {
  const s = $('status');
  s.textContent = text;
  s.className = `status ${kind}`;
}

function fmtTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

// ---- data: folder, summary, decoding ----
function imageCount(): number | null {
  if (!scan) return null;
  return decoded && decoded.job === decodeJob ? decoded.perClass.reduce((a, b) => a + b, 0) : scan.files.length;
}

/** Refusals and warnings for the folder as it stands (after decoding, corrupt files no longer count). */
function dataVerdict(): { refusals: string[]; warnings: string[] } {
  if (!scan) return { refusals: [], warnings: [] };
  const allowSmall = $<HTMLInputElement>('allow-small').checked;
  if (decoded && decoded.job === decodeJob) {
    const v = judge(scan.classes, decoded.perClass, allowSmall);
    // A class whose files all failed to decode: say so rather than "has no images".
    v.refusals = v.refusals.map((r) => r.replace(/has no images \(.*?\)/, 'has no readable images (all failed to decode)'));
    return v;
  }
  return { refusals: scan.refusals, warnings: scan.warnings };
}

function renderSummary(): void {
  const box = $('summary');
  if (!scan) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const counts = decoded && decoded.job === decodeJob ? decoded.perClass : scan.perClass;
  const total = counts.reduce((a, b) => a + b, 0);
  $('summary-head').textContent = `${scan.root || 'Dropped folders'}: ${scan.classes.length} ${scan.classes.length === 1 ? 'class' : 'classes'}, ${total} images`;
  const { refusals, warnings } = dataVerdict();
  const ref = $('refusals');
  ref.hidden = !refusals.length;
  ref.replaceChildren(...refusals.map((r) => Object.assign(document.createElement('p'), { textContent: r })));
  const warn = $('warnings');
  warn.hidden = !warnings.length;
  warn.replaceChildren(...warnings.map((w) => Object.assign(document.createElement('li'), { textContent: w })));

  for (const u of thumbUrls) URL.revokeObjectURL(u);
  thumbUrls = [];
  const list = $('class-list');
  list.replaceChildren(
    ...scan.classes.map((cls, label) => {
      const item = document.createElement('div');
      item.className = 'class-item';
      const name = Object.assign(document.createElement('span'), { className: 'name', textContent: cls });
      const count = Object.assign(document.createElement('span'), { className: 'count', textContent: `${counts[label]} images` });
      const thumbs = document.createElement('div');
      thumbs.className = 'thumbs';
      for (const f of scan!.files.filter((x) => x.label === label).slice(0, 4)) {
        const url = URL.createObjectURL(f.file);
        thumbUrls.push(url);
        thumbs.append(Object.assign(document.createElement('img'), { src: url, alt: f.path, title: f.path, loading: 'lazy' }));
      }
      item.append(name, count, thumbs);
      return item;
    }),
  );
  const skipped = [...scan.skipped, ...(decoded && decoded.job === decodeJob ? decoded.skipped : [])];
  const det = $<HTMLDetailsElement>('skipped');
  det.hidden = !skipped.length;
  $('skipped-head').textContent = `${skipped.length} file${skipped.length === 1 ? '' : 's'} skipped`;
  $('skipped-list').replaceChildren(...skipped.slice(0, 500).map((s) => Object.assign(document.createElement('li'), { textContent: `${s.path}: ${s.reason}` })));
  updateSettings();
}

function chooseFolder(l: FolderListing): void {
  if (phase === 'training' || phase === 'paused' || phase === 'stopping') {
    setStatus('A run is training: stop it before choosing another folder.', 'error');
    return;
  }
  listing = l;
  scan = scanPaths(l.entries, { allowSmall: $<HTMLInputElement>('allow-small').checked, folders: l.folders });
  decoded = null;
  decodeJob++;
  renderSummary();
  if (!scan.refusals.length || scan.refusals.every((r) => r.startsWith('Only ') && r.includes('images, fewer'))) startDecode();
  else setStatus('This folder cannot be trained on: see the problems listed above.', 'error');
}

function startDecode(): void {
  if (!scan || !scan.files.length || scan.classes.length < 2) return;
  const size = readForm(imageCount()).values.imageSize;
  if (!(Number.isInteger(size) && size >= 32)) return;
  decodeJob++;
  decoded = null;
  $('decode-status').textContent = `Reading ${scan.files.length} images at ${size} px…`;
  send({ type: 'decode', job: decodeJob, files: scan.files.map((f) => ({ file: f.file, path: f.path, label: f.label })), classes: scan.classes, imageSize: size });
  setStatus('Reading the images…');
  updateSettings();
}

// ---- settings ----
let checked: Checked | null = null;

function updateSettings(): void {
  checked = readForm(imageCount());
  const reasons = $('recipe-reasons');
  const r = checked.recipe;
  if (r && checked.values.recipe === 'auto') {
    reasons.hidden = false;
    reasons.replaceChildren(...[`Recipe auto: learning rate ${r.lr}, ${r.epochs} epochs, batch ${r.batchSize}, ${r.augmentation} augmentation.`, ...r.reasons].map((t) => Object.assign(document.createElement('li'), { textContent: t })));
  } else if (r) {
    reasons.hidden = false;
    reasons.replaceChildren(Object.assign(document.createElement('li'), { textContent: `For ${imageCount()} images the auto recipe would use learning rate ${r.lr}, ${r.epochs} epochs, batch ${r.batchSize}; augmentation: ${r.augmentation} (used in any case).` }));
  } else {
    reasons.hidden = true;
  }
  const warn = $('setting-warnings');
  warn.hidden = !checked.warnings.length;
  warn.replaceChildren(...checked.warnings.map((w) => Object.assign(document.createElement('li'), { textContent: w })));
  const err = $('setting-error');
  err.hidden = !checked.error;
  err.textContent = checked.error ?? '';
  updateButtons();
}

function canStart(): boolean {
  return gpuOk !== false && !!scan && !dataVerdict().refusals.length && !checked?.error && (phase === 'idle' || phase === 'finished');
}

function updateButtons(): void {
  $<HTMLButtonElement>('train').disabled = !canStart();
  const active = phase === 'training' || phase === 'paused';
  $<HTMLButtonElement>('pause').disabled = !active;
  $<HTMLButtonElement>('pause').textContent = phase === 'paused' ? 'Resume' : 'Pause';
  $<HTMLButtonElement>('stop').disabled = !active;
  $<HTMLButtonElement>('download-model').disabled = !hasModel || active;
  $<HTMLButtonElement>('download-int8').disabled = !hasInt8 || active;
  $<HTMLInputElement>('folder-input').disabled = active || phase === 'stopping';
}

function start(): void {
  updateSettings();
  if (!canStart() || !checked || !scan) return;
  const v = checked.values;
  if (!decoded || decoded.job !== decodeJob || decoded.imageSize !== v.imageSize) {
    // Images are held at the training size: decode again at the new size, then start.
    if (!decoded || decoded.imageSize !== v.imageSize) startDecode();
    startWhenDecoded = true;
    setStatus('Reading the images, then training…');
    return;
  }
  runSettings = {
    classes: scan.classes, imageSize: v.imageSize, batchSize: v.batchSize, epochs: v.epochs, lr: v.lr, valSplit: v.valSplit,
    augmentation: checked.recipe!.augmentation, seed: trainDefaults.seed, labelSmoothing: trainDefaults.labelSmoothing,
    weightDecay: trainDefaults.weightDecay, bnMomentum: trainDefaults.bnMomentum, bnRecalibrate: trainDefaults.bnRecalibrate,
    quantize: v.quantize,
  };
  const settings: RunSettings = runSettings;
  resetTrainingView();
  phase = 'training';
  hasModel = false;
  hasInt8 = false;
  updateButtons();
  setStatus('Starting: compiling the GPU kernels (the first step is slow)…');
  void navigator.storage?.persist?.().catch(() => false);
  send({ type: 'train', settings });
}

// ---- training view ----
function resetTrainingView(): void {
  curves.stepLoss = [];
  curves.stepAcc = [];
  curves.history = [];
  $('results').hidden = true;
  $('final').hidden = true;
  $('metrics').textContent = '';
  $('progress-bar').style.width = '0';
  $('progress-text').textContent = '';
  drawCurves();
}

function drawCurves(): void {
  const planned = Number($<HTMLInputElement>('epochs').value);
  const xMax = runSettings?.epochs ?? (Number.isInteger(planned) && planned > 0 ? planned : trainDefaults.epochs);
  const h = curves.history;
  const loss: Series[] = [
    { name: 'train (running)', color: '#9db6e8', points: curves.stepLoss },
    { name: 'train', color: '#2563c9', points: h.map((m) => [m.epoch, m.trainLoss]), dots: true },
    { name: 'validation', color: '#d9480f', points: h.map((m) => [m.epoch, m.valLoss]), dots: true },
  ];
  const acc: Series[] = [
    { name: 'train (running)', color: '#9db6e8', points: curves.stepAcc },
    { name: 'train', color: '#2563c9', points: h.map((m) => [m.epoch, m.trainAcc]), dots: true },
    { name: 'validation', color: '#d9480f', points: h.map((m) => [m.epoch, m.valAcc]), dots: true },
  ];
  drawChart($<HTMLCanvasElement>('loss-chart'), loss, { xMax });
  drawChart($<HTMLCanvasElement>('acc-chart'), acc, { xMax, yRange: [0, 1], yFormat: (v) => `${Math.round(v * 100)}%` });
}

function onStep(s: StepInfo): void {
  const x = s.epoch + (s.step + 1) / s.steps;
  curves.stepLoss.push([x, s.loss]);
  curves.stepAcc.push([x, s.accuracy]);
  $('progress-bar').style.width = `${(100 * (s.step + 1)) / s.steps}%`;
  const perEpoch = lastEpochSeconds || (s.etaSeconds + (s.step + 1) / Math.max(s.imagesPerSecond, 1e-9) * (runSettings?.batchSize ?? 1));
  const total = s.etaSeconds + (s.epochs - s.epoch - 1) * perEpoch;
  $('progress-text').textContent =
    `Epoch ${s.epoch + 1} of ${s.epochs} · step ${s.step + 1} of ${s.steps} · ${s.imagesPerSecond.toFixed(1)} images/s · ` +
    `loss ${s.loss.toFixed(3)} · accuracy ${(100 * s.accuracy).toFixed(1)} % · ETA this epoch ${fmtTime(s.etaSeconds)}, all ${fmtTime(total)}`;
  if (phase === 'training') setStatus(`Training: epoch ${s.epoch + 1} of ${s.epochs}`);
  drawCurves();
}

function showEval(view: EvalView, classes: string[]): void {
  $('results').hidden = false;
  renderPerClass($<HTMLTableElement>('per-class'), view, classes);
  renderConfusion($('confusion'), view, classes);
  renderMisclassified($('misclassified'), view, classes);
}

function onFinished(metrics: FinalMetrics, view: EvalView | null): void {
  phase = 'finished';
  hasModel = true;
  curves.history = metrics.history;
  drawCurves();
  if (view) showEval(view, metrics.classes);
  $('results').hidden = false;
  $('metrics').textContent = JSON.stringify(metrics, null, 2);
  $('final').hidden = false;
  $('progress-bar').style.width = '100%';
  const acc = metrics.val_accuracy === null ? 'no validation set' : `validation accuracy ${(100 * metrics.val_accuracy).toFixed(1)} %`;
  hasInt8 = !!metrics.int8;
  const saved = metrics.saved_epoch !== null && metrics.saved_epoch !== metrics.epochs ? ` The weights are epoch ${metrics.saved_epoch}'s, the best validation accuracy (as the CLI saves).` : '';
  const int8 = metrics.int8
    ? ` int8 model: ${(metrics.int8.bytes / 1e6).toFixed(2)} MB, validation accuracy ${(100 * metrics.int8.int8_accuracy).toFixed(1)} % (float32 ${(100 * metrics.int8.float_accuracy).toFixed(1)} %), same answer on ${(100 * metrics.int8.agreement).toFixed(1)} % of ${metrics.int8.images} images.`
    : '';
  $('model-status').textContent = `Model ready: trained here on ${metrics.train_images} images (${metrics.classes.length} classes, ${metrics.image_size} px).${saved}${int8}`;
  setStatus(`${metrics.stopped === 'completed' ? 'Training finished' : 'Training stopped early'}: ${metrics.epochs} epochs, ${acc}, ${metrics.images_per_second.toFixed(1)} images/s — done`, 'done');
  updateButtons();
}

function showSaved(info: SavedRunInfo | null): void {
  const banner = $('saved-run');
  if (!info || phase !== 'idle') {
    banner.hidden = true;
    return;
  }
  const s = info.settings;
  const when = new Date(info.savedAt).toLocaleString();
  $('saved-run-text').textContent = info.finished
    ? `A finished run is saved in this browser (${when}): ${s.classes.length} classes, ${info.imageCount} images at ${s.imageSize} px, ${info.epoch} epochs.`
    : `A run was interrupted (saved ${when}): ${s.classes.length} classes, ${info.imageCount} images at ${s.imageSize} px, ${info.epoch} of ${s.epochs} epochs done. Its images are saved too.`;
  $('saved-resume').textContent = info.finished ? 'Open it' : 'Resume training';
  banner.hidden = false;
}

function showMemory(mem: MemoryView, checkpoint: string): void {
  const line = `Memory: images ${mb(mem.imageBytes)} (8-bit) · GPU buffers ${mb(mem.gpuBytes)} (peak ${mb(mem.peakGpuBytes)})`;
  $('memory').textContent = checkpoint ? `${line} · ${checkpoint}` : line;
}

// ---- model files ----
function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function loadModelFiles(files: File[]): Promise<void> {
  const weights = files.find((f) => f.name.endsWith('.safetensors'));
  const config = files.find((f) => f.name.endsWith('.json'));
  if (!weights || !config) {
    $('model-status').textContent = `Choose both files of a model: model.safetensors and config.json (you chose ${files.map((f) => f.name).join(', ') || 'none'}).`;
    return;
  }
  $('model-status').textContent = `Loading ${weights.name} and ${config.name}…`;
  hasInt8 = false;
  updateButtons();
  send({ type: 'load-model', weights: new Uint8Array(await weights.arrayBuffer()), config: await config.text() });
}

let predictUrls: string[] = [];
let predictFiles: File[] = [];

function predict(files: File[]): void {
  const images = files.filter((f) => IMAGE_EXTENSIONS.some((e) => f.name.toLowerCase().endsWith(e)) || f.type.startsWith('image/'));
  if (!images.length) {
    $('predictions').textContent = `Drop images (${IMAGE_EXTENSIONS.join(', ')}) to try the model on.`;
    return;
  }
  if (!hasModel) {
    $('predictions').textContent = 'No model yet: train one, or load model.safetensors + config.json first.';
    return;
  }
  predictFiles = images;
  $('predictions').textContent = `Classifying ${images.length} image${images.length === 1 ? '' : 's'}…`;
  send({ type: 'predict', files: images });
}

function showPredictions(results: Prediction[]): void {
  const host = $('predictions');
  for (const u of predictUrls) URL.revokeObjectURL(u);
  predictUrls = [];
  host.dataset.json = JSON.stringify(results);
  host.replaceChildren(
    ...results.map((r, i) => {
      const card = document.createElement('div');
      card.className = 'prediction';
      const f = predictFiles[i];
      if (f) {
        const url = URL.createObjectURL(f);
        predictUrls.push(url);
        card.append(Object.assign(document.createElement('img'), { src: url, alt: r.name }));
      }
      card.append(Object.assign(document.createElement('div'), { textContent: r.name, className: 'hint' }));
      if (r.error) {
        card.append(Object.assign(document.createElement('p'), { textContent: `cannot read: ${r.error}` }));
      } else {
        const ol = document.createElement('ol');
        for (const t of r.top) {
          const li = document.createElement('li');
          li.append(Object.assign(document.createElement('span'), { textContent: t.className }), Object.assign(document.createElement('span'), { textContent: `${(100 * t.probability).toFixed(1)} %` }));
          ol.append(li);
        }
        card.append(ol);
      }
      return card;
    }),
  );
}

// ---- messages from the worker ----
worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'ready':
      gpuOk = true;
      $('gpu-status').textContent = `WebGPU: ${m.adapter}`;
      $('gpu-status').className = 'gpu ok';
      updateButtons();
      return;
    case 'no-gpu':
      gpuOk = false;
      showNoGpu(`${NO_WEBGPU_HELP} (The browser said: ${m.message})`);
      return;
    case 'decode-progress':
      if (m.job === decodeJob) $('decode-status').textContent = `Reading images: ${m.done} of ${m.total}…`;
      return;
    case 'decoded': {
      if (m.job !== decodeJob) return;
      decoded = { job: m.job, imageSize: m.imageSize, perClass: m.perClass, skipped: m.skipped, bytes: m.bytes };
      $('decode-status').textContent = `Images held in memory: ${m.perClass.reduce((a, b) => a + b, 0)} at ${m.imageSize} x ${m.imageSize} px, 8-bit (${mb(m.bytes)}).`;
      renderSummary();
      const { refusals } = dataVerdict();
      if (refusals.length) {
        startWhenDecoded = false;
        setStatus('This folder cannot be trained on: see the problems listed above.', 'error');
      } else if (startWhenDecoded) {
        startWhenDecoded = false;
        start();
      } else if (phase === 'idle' || phase === 'finished') {
        setStatus('Ready: check the settings and press Start training.');
      }
      return;
    }
    case 'phase':
      setStatus(`${m.text[0]!.toUpperCase()}${m.text.slice(1)}…`);
      return;
    case 'started':
      runSettings = m.settings;
      stepsPerEpoch = m.stepsPerEpoch;
      curves.history = [...m.history];
      phase = 'training';
      $('saved-run').hidden = true;
      setStatus(`Training on ${m.trainImages} images (validating on ${m.valImages}), ${stepsPerEpoch} steps per epoch${m.resumedAt ? `, resumed after epoch ${m.resumedAt}` : ''}…`);
      updateButtons();
      drawCurves();
      return;
    case 'step':
      onStep(m.info);
      return;
    case 'epoch':
      curves.history.push(m.metrics);
      lastEpochSeconds = m.metrics.seconds;
      curves.stepLoss = curves.stepLoss.filter(([x]) => x <= m.metrics.epoch);
      drawCurves();
      if (m.eval && runSettings) showEval(m.eval, runSettings.classes);
      showMemory(m.memory, '');
      return;
    case 'checkpointed':
      showMemory(m.memory, `checkpoint saved to ${m.where} ${m.step ? `after ${m.step} steps of epoch ${m.epoch + 1}` : `after epoch ${m.epoch}`} (${mb(m.bytes)})`);
      return;
    case 'paused':
      phase = 'paused';
      setStatus(`Paused at epoch ${m.epoch + 1}, step ${m.step + 1} (checkpoint saved): press Resume to go on.`);
      updateButtons();
      return;
    case 'resumed':
      phase = 'training';
      setStatus('Training…');
      updateButtons();
      return;
    case 'finished':
      onFinished(m.metrics, m.eval);
      return;
    case 'saved-run':
      showSaved(m.info);
      return;
    case 'model-files': {
      // The int8 pair gets its own names so that it does not overwrite (or get renamed next to) the float pair.
      const suffix = m.precision === 'int8' ? '-int8' : '';
      download(`model${suffix}.safetensors`, m.weights as Uint8Array<ArrayBuffer>, 'application/octet-stream');
      download(`config${suffix}.json`, m.config, 'application/json');
      return;
    }
    case 'model-loaded':
      hasModel = true;
      $('model-status').textContent = `Model loaded (${m.config.precision === 'int8' ? 'int8' : 'float32'}): ${m.config.numClasses} classes (${m.config.classNames.slice(0, 6).join(', ')}${m.config.numClasses > 6 ? ', …' : ''}), ${m.config.imageSize} px. Drop images below to try it.`;
      updateButtons();
      return;
    case 'predictions':
      showPredictions(m.results);
      return;
    case 'error':
      onError(m.context, m.message);
      return;
  }
};

function onError(context: string, message: string): void {
  if (context === 'checkpoint' || context === 'storage') {
    $('memory').textContent = message;
    return;
  }
  if (context === 'load-model') {
    $('model-status').textContent = `Could not load the model: ${message}`;
    return;
  }
  if (context === 'predict') {
    $('predictions').textContent = `Could not classify: ${message}`;
    return;
  }
  if (context === 'training' || context === 'train' || context === 'resume-saved') {
    phase = 'idle';
    updateButtons();
  }
  setStatus(`Error (${context}): ${message}`, 'error');
}

worker.onerror = (e) => {
  e.preventDefault();
  phase = 'idle';
  if (gpuOk !== true) {
    // The worker died before it found an adapter: for the user that is the same as no WebGPU.
    gpuOk = false;
    showNoGpu(`${NO_WEBGPU_HELP} (The training worker stopped before it found a WebGPU adapter${e.message ? `: ${e.message}` : ''}.)`);
    return;
  }
  updateButtons();
  setStatus(`Error: the training worker failed or crashed (${e.message || 'no message'}). Reload the page; a saved run can be resumed.`, 'error');
};

function showNoGpu(text: string): void {
  const box = $('no-gpu');
  box.hidden = false;
  box.textContent = text;
  $('gpu-status').textContent = 'WebGPU: not available';
  setStatus('No WebGPU in this browser: training cannot run here (see the message at the top).', 'error');
  updateButtons();
}

// ---- wiring ----
function wireDrop(zone: HTMLElement, onDrop: (dt: DataTransfer) => void): void {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer) onDrop(e.dataTransfer);
  });
}

fillDefaults();
updateSettings();
drawCurves();
$<HTMLInputElement>('folder-input').addEventListener('change', (e) => {
  const files = (e.target as HTMLInputElement).files;
  if (files?.length) chooseFolder(fromFileList(files));
});
wireDrop($('drop-zone'), (dt) => void fromDataTransfer(dt).then(chooseFolder));
$<HTMLInputElement>('allow-small').addEventListener('change', () => {
  if (listing) chooseFolder(listing);
});
for (const id of ['batch-size', 'epochs', 'learning-rate', 'val-split', 'recipe']) $(id).addEventListener('input', updateSettings);
$('epochs').addEventListener('change', () => phase === 'idle' && drawCurves());
$('recipe').addEventListener('change', updateSettings);
$('image-size').addEventListener('input', updateSettings);
$('image-size').addEventListener('change', () => {
  updateSettings();
  if (scan && !checked?.error && decoded?.imageSize !== checked?.values.imageSize) startDecode();
});
$('train').addEventListener('click', start);
$('pause').addEventListener('click', () => {
  if (phase === 'training') {
    setStatus('Pausing after this step…');
    send({ type: 'pause' });
  } else if (phase === 'paused') {
    send({ type: 'resume' });
  }
});
$('stop').addEventListener('click', () => {
  if (phase !== 'training' && phase !== 'paused') return;
  phase = 'stopping';
  setStatus('Stopping after this step; the model so far will be kept…');
  updateButtons();
  send({ type: 'stop' });
});
$('download-model').addEventListener('click', () => send({ type: 'export-model', precision: 'f32' }));
$('download-int8').addEventListener('click', () => send({ type: 'export-model', precision: 'int8' }));
// Inputs are cleared after use so that choosing the same files again still counts as a choice.
$<HTMLInputElement>('model-input').addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  void loadModelFiles([...(input.files ?? [])]).finally(() => (input.value = ''));
});
$<HTMLInputElement>('predict-input').addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  predict([...(input.files ?? [])]);
  input.value = '';
});
wireDrop($('predict-zone'), (dt) => {
  const files = [...dt.files];
  if (files.some((f) => f.name.endsWith('.safetensors'))) void loadModelFiles(files);
  else predict(files);
});
$('saved-resume').addEventListener('click', () => {
  $('saved-run').hidden = true;
  resetTrainingView();
  phase = 'training';
  updateButtons();
  send({ type: 'resume-saved' });
});
$('saved-discard').addEventListener('click', () => send({ type: 'discard-saved' }));
addEventListener('resize', drawCurves);

if (!('gpu' in navigator)) {
  gpuOk = false;
  showNoGpu(NO_WEBGPU_HELP);
} else {
  send({ type: 'init' });
}
send({ type: 'check-saved' });
