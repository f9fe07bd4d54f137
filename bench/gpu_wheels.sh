#!/usr/bin/env bash
# Wheels that bench/gpu_paths.py needs on the device machine and its image lacks (it has torch, transformers,
# peft, accelerate, tokenizers, lxml, rich, httpx; nothing can be fetched there). Run here, in the repo root;
# then carry .whl (about 46 MB) and install it there first (docs/benchmarks.md, "GPU paths").
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
rm -rf .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d .whl \
  bitsandbytes gymnasium farama-notifications beautifulsoup4 soupsieve bm25s rapidfuzz docker
du -sh .whl
