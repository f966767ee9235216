#!/bin/sh
# One Method 1 run (prompted distillation, guided teacher, ending on a moving average) and its audit:
#   run.sh NAME SEED TARGET STEPS [more finetune flags…]
# From this folder with the repository built; writes NAME.log, NAME.fdckpt, NAME.audit.{log,json,html}.
# (The runs here were made with ../2026-12-06-distillation/run.sh plus --steps STEPS --ema 0.99: the same command.)
F="${FAIRDIFF:-node ../../../dist/src/cli/main.js}"
name=$1; seed=$2; target=$3; steps=$4; shift 4
/usr/bin/time -v $F finetune --method align --target "$target" --steps "$steps" --seed "$seed" \
  --trainable unet-lora --lr 3e-3 --fairness-weight 0 --semantic-weight 0 --distill-weight 1 \
  --prior-weight 1 --ema 0.99 "$@" --out "$name.fdckpt" > "$name.log" 2>&1
$F audit -m "$name.fdckpt" -n 256 --seed 21 --quality --intersections sex,race \
  --json "$name.audit.json" -o "$name.audit.html" > "$name.audit.log" 2>&1
