#!/usr/bin/python3
"""PyTorch CPU side of the end-to-end benchmark (bench/e2e.ts runs it in the same run).

torchvision's mobilenet_v3_small, AdamW, cross-entropy, the given number of threads; warm-up steps
excluded, medians of the timed steps. Prints one JSON object on stdout.

  train224: training step on a fixed random batch (already in memory), as mobilegrad's "batch on the GPU"
  train64:  training at 64 px with a DataLoader over an image folder: PNG decoding, RandomResizedCrop,
            flip, normalisation each step, as torchvision does it (num_workers=0: the machine's cores
            go to the compute threads)
  infer1 / infer32: eval-mode forward at 224 px, batch 1 and batch 32

usage: torch_e2e.py --folder DIR [--threads 2] [--size 224] [--batch 32] [--steps 5] [--warmup 2]
                    [--folder-size 64] [--folder-steps 20] [--classes 10] [--only train224,train64,infer1,infer32]
"""
import argparse, json, statistics, sys, time

p = argparse.ArgumentParser()
p.add_argument('--folder', required=True)
p.add_argument('--threads', type=int, default=2)
p.add_argument('--size', type=int, default=224)
p.add_argument('--batch', type=int, default=32)
p.add_argument('--steps', type=int, default=5)
p.add_argument('--warmup', type=int, default=2)
p.add_argument('--folder-size', type=int, default=64)
p.add_argument('--folder-steps', type=int, default=20)
p.add_argument('--classes', type=int, default=10)
p.add_argument('--only', default='train224,train64,infer1,infer32')
a = p.parse_args()

try:
    import torch, torchvision
    from torchvision import transforms as T
except ImportError as e:
    print(json.dumps({'available': False, 'reason': f'PyTorch not installed ({e})'}))
    sys.exit(0)

torch.set_num_threads(a.threads)
torch.manual_seed(0)
only = set(a.only.split(','))
out = {'available': True, 'torch': torch.__version__, 'torchvision': torchvision.__version__, 'threads': a.threads}


def timed(fn, warmup, steps):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1000)
    return statistics.median(ts), ts


def row(size, batch, ms, ts, **extra):
    return {'image_size': size, 'batch_size': batch, 'ms_per_step': ms, 'images_per_second': batch / ms * 1000, 'best_ms_per_step': min(ts), 'samples_ms': ts, **extra}


def model():
    return torchvision.models.mobilenet_v3_small(num_classes=a.classes)


lossf = torch.nn.CrossEntropyLoss()

if 'train224' in only:
    m = model().train()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.randint(0, a.classes, (a.batch,))

    def step():
        opt.zero_grad()
        l = lossf(m(x), y)
        l.backward()
        opt.step()
        return l.item()

    ms, ts = timed(step, a.warmup, a.steps)
    out['train224'] = row(a.size, a.batch, ms, ts)

if 'infer1' in only or 'infer32' in only:
    m = model().eval()
    with torch.no_grad():
        if 'infer1' in only:
            x1 = torch.randn(1, 3, a.size, a.size)
            ms, ts = timed(lambda: m(x1), 5, 20)
            out['infer1'] = row(a.size, 1, ms, ts)
        if 'infer32' in only:
            xb = torch.randn(a.batch, 3, a.size, a.size)
            ms, ts = timed(lambda: m(xb), 2, a.steps)
            out['infer32'] = row(a.size, a.batch, ms, ts)

if 'train64' in only:
    import torchvision.datasets as D
    res = a.folder_size
    norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    tr = T.Compose([T.Lambda(lambda im: im.convert('RGB')), T.RandomResizedCrop(res, scale=(0.35, 1.0)), T.RandomHorizontalFlip(), T.ToTensor(), norm])
    ds = D.ImageFolder(a.folder, tr)
    loader = torch.utils.data.DataLoader(ds, a.batch, shuffle=True, drop_last=True, num_workers=0)
    m = torchvision.models.mobilenet_v3_small(num_classes=len(ds.classes)).train()
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3)
    it = iter(loader)

    def step():
        global it
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        opt.zero_grad()
        l = lossf(m(x), y)
        l.backward()
        opt.step()
        return l.item()

    ms, ts = timed(step, a.warmup, a.folder_steps)
    out['train64'] = row(res, a.batch, ms, ts, images_in_folder=len(ds),
                         note='DataLoader over the PNG folder (decode, RandomResizedCrop, flip, normalise) inside each timed step')

print(json.dumps(out))
