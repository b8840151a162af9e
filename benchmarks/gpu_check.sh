#!/usr/bin/env bash
# The GPU proof, as one short script for a lent GPU machine (torch, scikit-learn, onnx and
# onnxruntime are there, skorch is not: carry it as a wheel in .whl/, see README "GPU").
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_28_x86_64 -d .whl skorch==1.4.0
#   then on the GPU machine: bash benchmarks/gpu_check.sh
set -uo pipefail
OUT=${OUT:-/tmp/skdistill-gpu}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 -c "import torch, sklearn, skorch, onnxruntime; print('torch', torch.__version__, \
'sklearn', sklearn.__version__, 'skorch', skorch.__version__, 'onnxruntime', onnxruntime.__version__)"
python3 -m pytest tests/test_cuda.py -v -p no:cacheprovider 2>&1 | tee "$OUT/cuda_tests.log"
python3 benchmarks/speed.py --device cuda --rows 1000000 --batch-size 1024 --epochs 2 \
    --repeats 3 --scaling "" 2>&1 | tee "$OUT/speed_gpu.log"
cp benchmarks/results/speed_gpu.txt "$OUT/"   # with its command, GPU and versions: publish it
                                              # by committing it to benchmarks/results/
python3 benchmarks/speed.py --device cuda --rows 1000000 --batch-size 8192 --epochs 2 \
    --repeats 3 --scaling "" 2>&1 | tee "$OUT/speed_gpu_8192.log"   # the large-batch rows
