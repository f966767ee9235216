#!/bin/bash
# The #7 done-when runs of 2026-11-22, in parallel, one single-threaded wasm process each (16
# cores: about 15 minutes). Needs `npm run build` and the scripts compiled into dist/scripts (see
# each script's header). Logs and JSON go to $RUNS (default /tmp/runs).
cd "$(dirname "$0")/.." || exit 1
RUNS=${RUNS:-/tmp/runs}
mkdir -p "$RUNS"
DA=dist/scripts/distributional-alignment.js
run() {
  local name=$1
  shift
  (node "$@" --json "$RUNS/$name.json" >"$RUNS/$name.log" 2>&1; echo "exit $?" >>"$RUNS/$name.log") &
}
run u-unet-5e3-40 $DA --target uniform --trainable unet-lora --lr 5e-3 --steps 40
run u-unet-5e3-80 $DA --target uniform --trainable unet-lora --lr 5e-3 --steps 80
run u-unet-1e2-40 $DA --target uniform --trainable unet-lora --lr 1e-2 --steps 40
run u-unet-2e3-80-s1 $DA --target uniform --trainable unet-lora --lr 2e-3 --steps 80 --semantic 1
run u-text-3e3-40 $DA --target uniform --trainable text-lora --lr 3e-3 --steps 40
run u-text-1e3-80 $DA --target uniform --trainable text-lora --lr 1e-3 --steps 80
run u-soft-1e2-40 $DA --target uniform --trainable soft-prompt --lr 1e-2 --steps 40
run f75-unet-5e3-40 $DA --target female75 --trainable unet-lora --lr 5e-3 --steps 40
run f75-unet-5e3-80 $DA --target female75 --trainable unet-lora --lr 5e-3 --steps 80
run f75-text-3e3-40 $DA --target female75 --trainable text-lora --lr 3e-3 --steps 40
run m75-unet-5e3-40 $DA --target male75 --trainable unet-lora --lr 5e-3 --steps 40
run m2-default dist/scripts/subgroup-tuning.js
run m2-sexrace dist/scripts/subgroup-tuning.js --attributes sex,race --steps 200
run m3-default dist/scripts/fair-perturbation.js
wait
