#!/usr/bin/python3
"""PyTorch parity fixtures for mobilegrad's MobileNetV3-Small (a development tool, never a runtime
or CI dependency).

    apt-get install -y python3-torch python3-torchvision
    /usr/bin/python3 scripts/make-parity-fixtures.py      # writes test/fixtures/parity.json

Builds torchvision's ``mobilenet_v3_small(num_classes=10)``, fills every tensor of its state_dict
with deterministic values that test/support/parity-weights.ts recomputes exactly, and records
reference outputs: eval-mode logits, train-mode logits, BatchNorm running statistics after one
train-mode forward, the cross-entropy loss and selected gradients.

VALUE RULE (implemented identically in test/support/parity-weights.ts)
-----------------------------------------------------------------------
Walk the state_dict in its order, t = 0, 1, 2, ... over ALL keys (weights, biases, running_mean,
running_var and num_batches_tracked alike). For element j of tensor t, j the row-major index in
PyTorch layout (convs OIHW, depthwise [C,1,k,k], linears [out,in]), compute in float64

    s = sin(0.7*j + 1.3*t + 0.1)          (evaluated left to right: ((0.7*j) + (1.3*t)) + 0.1)

and then, by the kind of tensor,

    conv / linear weight          s * sqrt(3 / fan_in)
                                  fan_in = (in_channels / groups) * kh * kw for a conv
                                           (= dim1 * dim2 * dim3 of the OIHW weight),
                                           in_features (= dim1) for a linear
    conv / linear bias            0.1 * s
    BatchNorm weight              1 + 0.1 * s
    BatchNorm bias                0.1 * s
    BatchNorm running_mean        0.1 * s
    BatchNorm running_var         1 + 0.5 * |s|
    BatchNorm num_batches_tracked 0   (an int64 scalar, shape [])

and round the float64 result to float32 (round to nearest even).

INPUT: batch 2, 3 channels, 64x64. The value at flat NCHW index i = ((b*3 + c)*H + y)*W + x is
0.5 * sin(0.05*i + 0.3) computed in float64 and rounded to float32. parityInput() in TypeScript
returns the same values in NHWC order: nhwc[((b*H + y)*W + x)*3 + c] = nchw[((b*3 + c)*H + y)*W + x].
LABELS: [3, 7].

INPUT SIZE: 64x64, not 32x32. At 32x32 the last five blocks run at 1x1 spatial, so each train-mode
BatchNorm there normalizes just 2 values per channel (some with batch variance ~1e-8 << eps); that
amplifies float32 rounding so much that float32 and float64 PyTorch disagree on the gradients by
~150 % (relative L2) and on features.12's output by 0.5: no engine could match such a fixture. At
64x64 (2x2 spatial at the end, 8 values per channel) float32 vs float64 agree to <= 3.3e-4 relative
L2 on every recorded gradient and 2.2e-6 on the train logits. The script measures and records this
(section "float32VsFloat64") so that tolerances can be chosen from it.

NOTE ON THE WEIGHTS: sin(0.7*j + c) over a row-major [out, fan_in] matrix is sin(a_o + 0.7*i), so
every conv and linear weight matrix has rank 2. In eval mode (no renormalization by batch
statistics) the signal also decays through the blocks, and the network maps both input images to
practically the same logits (they differ by ~1e-6; adding a quadratic phase term to the rule did
not change that, so rank 2 is not the only cause): the eval fixture checks weights, layouts and the
eval-BN arithmetic but hardly the input path. The train-mode fixtures are input-sensitive.

sin is computed with Python's math.sin (the C library's); V8's Math.sin may differ from it by at
most an ulp of float64, which only matters in the (vanishingly rare) case where the float64 value
lies on a float32 rounding boundary; the vitest check compares every tensor's sum.
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision
from torchvision.models import mobilenet_v3_small

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "parity.json")

NUM_CLASSES = 10
BATCH, CHANNELS, SIZE = 2, 3, 64  # see INPUT SIZE below for why not 32
LABELS = [3, 7]
BN_STAT_LAYERS = ["features.0.1", "features.1.block.0.1", "features.4.block.1.1", "features.12.1"]
GRAD_PARAMS = [
    "features.0.0.weight",
    "features.1.block.1.fc1.weight",
    "features.1.block.1.fc1.bias",
    "features.4.block.1.0.weight",
    "features.9.block.3.0.weight",
    "features.12.0.weight",
    "features.12.1.weight",
    "classifier.0.weight",
    "classifier.3.weight",
    "classifier.3.bias",
]
FULL_LIMIT = 4096   # tensors with more elements keep only their first HEAD elements plus the L2 norm
HEAD = 512
WEIGHT_CHECK_TENSORS = ["features.0.0.weight", "features.9.block.1.1.running_var", "classifier.0.weight"]


def f32(x):
    """A float32 value as the float64 that equals it exactly (JSON keeps it to full precision)."""
    return float(np.float32(x))


def f32_list(t):
    return [float(v) for v in t.detach().reshape(-1).to(torch.float32).numpy().astype(np.float64)]


def parity_values(t, n, kind, fan_in):
    out = np.empty(n, dtype=np.float32)
    scale = math.sqrt(3.0 / fan_in) if kind == "weight" else 0.0
    for j in range(n):
        s = math.sin(0.7 * j + 1.3 * t + 0.1)
        if kind == "weight":
            v = s * scale
        elif kind in ("bias", "bn_bias", "running_mean"):
            v = 0.1 * s
        elif kind == "bn_weight":
            v = 1.0 + 0.1 * s
        elif kind == "running_var":
            v = 1.0 + 0.5 * abs(s)
        else:
            raise ValueError(kind)
        out[j] = v  # float64 -> float32, round to nearest even
    return out


def main():
    torch.manual_seed(0)
    model = mobilenet_v3_small(num_classes=NUM_CLASSES)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}; parameters: {n_params:,}")
    assert n_params == 1_528_106, n_params

    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    moms, epss = {m.momentum for m in bns}, {m.eps for m in bns}
    print(f"BatchNorm layers: {len(bns)}, momentum {moms}, eps {epss}")
    assert moms == {0.01} and epss == {0.001}

    modules = dict(model.named_modules())
    sd = model.state_dict()
    new_sd = {}
    checks = {}
    for t, (key, tensor) in enumerate(sd.items()):
        prefix, _, leaf = key.rpartition(".")
        mod = modules[prefix]
        shape = list(tensor.shape)
        n = tensor.numel()
        if isinstance(mod, nn.BatchNorm2d):
            if leaf == "num_batches_tracked":
                new_sd[key] = torch.zeros_like(tensor)
                checks[key] = {"t": t, "shape": shape, "sum": 0.0, "first": [0.0]}
                continue
            kind = {"weight": "bn_weight", "bias": "bn_bias", "running_mean": "running_mean",
                    "running_var": "running_var"}[leaf]
            fan_in = None
        elif isinstance(mod, nn.Conv2d):
            kind = leaf
            fan_in = (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
            if leaf == "weight":
                assert fan_in == shape[1] * shape[2] * shape[3]
        elif isinstance(mod, nn.Linear):
            kind = leaf
            fan_in = mod.in_features
            if leaf == "weight":
                assert fan_in == shape[1]
        else:
            raise TypeError(f"{key}: unexpected module {type(mod).__name__}")
        vals = parity_values(t, n, kind, fan_in)
        new_sd[key] = torch.from_numpy(vals.reshape(shape).copy())
        checks[key] = {
            "t": t,
            "shape": shape,
            "sum": float(np.sum(vals.astype(np.float64))),
            "first": [float(v) for v in vals[:5].astype(np.float64)],
        }
    print(f"state_dict tensors: {len(sd)}")

    # Input, NCHW.
    count = BATCH * CHANNELS * SIZE * SIZE
    x_np = np.array([0.5 * math.sin(0.05 * i + 0.3) for i in range(count)], dtype=np.float32)
    x32 = torch.from_numpy(x_np.reshape(BATCH, CHANNELS, SIZE, SIZE))
    y = torch.tensor(LABELS, dtype=torch.int64)

    def run(dtype):
        """All reference computations on a fresh copy of the model in `dtype`."""
        net = mobilenet_v3_small(num_classes=NUM_CLASSES).to(dtype)
        net.load_state_dict({k: (v.to(dtype) if v.is_floating_point() else v) for k, v in new_sd.items()})
        mods = dict(net.named_modules())
        x = x32.to(dtype)
        # a) eval mode.
        net.eval()
        with torch.no_grad():
            eval_logits = net(x)
        # b) train mode, dropout made deterministic.
        net.train()
        dropout = net.classifier[2]
        assert isinstance(dropout, nn.Dropout) and dropout.p == 0.2
        dropout.p = 0.0
        net.zero_grad(set_to_none=True)
        train_logits = net(x)
        stats = {}
        for name in BN_STAT_LAYERS:
            bn = mods[name]
            assert isinstance(bn, nn.BatchNorm2d)
            stats[name] = {"running_mean": bn.running_mean.detach().clone(),
                           "running_var": bn.running_var.detach().clone()}
        # c) cross-entropy (mean, no label smoothing) and gradients.
        loss = nn.CrossEntropyLoss()(train_logits, y)
        loss.backward()
        params = dict(net.named_parameters())
        return {"eval": eval_logits.detach(), "train": train_logits.detach(), "stats": stats,
                "loss": loss.detach(), "grads": {k: params[k].grad.detach() for k in GRAD_PARAMS}}

    r32 = run(torch.float32)
    r64 = run(torch.float64)

    def maxabs(a, b):
        return float((a.double() - b).abs().max().item())

    def rel_l2(a, b):
        return float(((a.double() - b).norm() / b.norm()).item())

    precision = {
        "note": "the same computations in float64 PyTorch (same float32-rounded weights and input): max abs "
                "difference from the float32 results stored here, and for gradients also the relative L2 "
                "difference; a measure of how much float32 rounding alone moves each value",
        "evalLogitsMaxAbs": maxabs(r32["eval"], r64["eval"]),
        "trainLogitsMaxAbs": maxabs(r32["train"], r64["train"]),
        "lossAbs": abs(float(r32["loss"].double().item() - r64["loss"].item())),
        "bnRunningStatsMaxAbs": {n: max(maxabs(r32["stats"][n][k], r64["stats"][n][k])
                                        for k in ("running_mean", "running_var")) for n in BN_STAT_LAYERS},
        "gradMaxAbs": {k: maxabs(r32["grads"][k], r64["grads"][k]) for k in GRAD_PARAMS},
        "gradRelL2": {k: rel_l2(r32["grads"][k], r64["grads"][k]) for k in GRAD_PARAMS},
    }
    print("float32 vs float64:", json.dumps(precision["gradRelL2"]))

    eval_logits, train_logits, loss = r32["eval"], r32["train"], r32["loss"]
    bn_stats = {n: {k: f32_list(v) for k, v in d.items()} for n, d in r32["stats"].items()}
    grads = {}
    for name in GRAD_PARAMS:
        g = r32["grads"][name]
        flat = f32_list(g)
        entry = {"shape": list(g.shape), "numel": g.numel()}
        if g.numel() > FULL_LIMIT:
            entry["head"] = flat[:HEAD]
            entry["l2"] = float(torch.linalg.vector_norm(g.double()).item())
        else:
            entry["values"] = flat
        grads[name] = entry

    fixture = {
        "description": "PyTorch reference outputs for torchvision mobilenet_v3_small(num_classes=10) with "
                       "deterministic weights; generated by scripts/make-parity-fixtures.py",
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numClasses": NUM_CLASSES,
        "parameterCount": n_params,
        "stateDictTensors": len(sd),
        "valueRule": (
            "t = index of the tensor in state_dict order over all keys (incl. running_mean, running_var, "
            "num_batches_tracked); j = row-major element index in PyTorch layout; s = sin(0.7*j + 1.3*t + 0.1) "
            "in float64; conv/linear weight: s*sqrt(3/fan_in) (fan_in = in_channels/groups*kh*kw or in_features); "
            "conv/linear bias: 0.1*s; BN weight: 1 + 0.1*s; BN bias: 0.1*s; running_mean: 0.1*s; "
            "running_var: 1 + 0.5*|s|; num_batches_tracked: 0; then rounded to float32"
        ),
        "input": {
            "shape": [BATCH, CHANNELS, SIZE, SIZE],
            "layout": "NCHW",
            "rule": "value at NCHW flat index i = float32(0.5*sin(0.05*i + 0.3)) (float64 sin); "
                    "parityInput() gives it as NHWC: nhwc[((b*H+y)*W+x)*3+c] = nchw[((b*3+c)*H+y)*W+x]",
            "labels": LABELS,
            "sum": float(np.sum(x_np.astype(np.float64))),
            "first": [float(v) for v in x_np[:5].astype(np.float64)],
        },
        "batchNorm": {"momentum": 0.01, "eps": 0.001,
                      "runningVar": "updated with the unbiased batch variance"},
        "eval": {"logits": [f32_list(r) for r in eval_logits]},
        "train": {
            "note": "model.train() with the classifier Dropout (classifier.2) p set to 0 so that the forward is "
                    "deterministic; BN uses batch statistics and updates its running stats once "
                    "(from the deterministic initial values above)",
            "dropoutP": 0.0,
            "logits": [f32_list(r) for r in train_logits],
            "bnRunningStats": bn_stats,
        },
        "loss": {
            "kind": "CrossEntropyLoss, mean reduction, no label smoothing, on the train-mode logits",
            "value": f32(loss.item()),
        },
        "grads": {
            "note": f"PyTorch layout, row-major; tensors with more than {FULL_LIMIT} elements keep only the first "
                    f"{HEAD} values ('head') plus the float64 L2 norm of the whole float32 gradient ('l2'); "
                    "smaller ones keep every value ('values')",
            "params": grads,
        },
        "float32VsFloat64": precision,
        "weightChecks": {
            "note": "for every state_dict tensor: index t, shape, float64 sum of its float32 values, first "
                    "(up to) 5 values; 'tensors' repeats three of them to sample every kind",
            "tensors": WEIGHT_CHECK_TENSORS,
            "all": checks,
        },
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"eval logits[0]: {fixture['eval']['logits'][0]}")
    print(f"train logits[0]: {fixture['train']['logits'][0]}")
    print(f"loss: {fixture['loss']['value']}")
    print(f"wrote {OUT}: {os.path.getsize(OUT):,} bytes")


if __name__ == "__main__":
    sys.exit(main())
