#!/usr/bin/env bash
# `npm run demo`: trains MobileNetV3-Small on the built-in Fashion-MNIST subset
# (data/fashion-mnist: 2,000 training PNGs, 1,000 test PNGs, 10 classes) and reports test accuracy.
# Small images (32 px) so it finishes in a few minutes on a 2-core CPU through lavapipe.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh >/dev/null
node scripts/build.mjs --no-types >/dev/null
exec node dist/node/cli.js train \
  --data data/fashion-mnist/train --val data/fashion-mnist/test \
  --image-size 32 --epochs 10 --out runs/demo --force "$@"
