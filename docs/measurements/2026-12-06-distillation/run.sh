#!/bin/sh
# One Method 1 run with prompted distillation and its audit: run.sh NAME SEED TARGET [more finetune flags…]
# From this folder with the repository built; writes NAME.log, NAME.fdckpt, NAME.audit.{log,json,html}.
# FAIRDIFF=… picks another build of the CLI (default: this repository's).
F="${FAIRDIFF:-node ../../../dist/src/cli/main.js}"
name=$1; seed=$2; target=$3; shift 3
/usr/bin/time -v $F finetune --method align --target "$target" --steps 200 --seed "$seed" \
  --trainable unet-lora --lr 3e-3 --fairness-weight 0 --semantic-weight 0 --distill-weight 1 \
  --prior-weight 1 "$@" --out "$name.fdckpt" > "$name.log" 2>&1
$F audit -m "$name.fdckpt" -n 256 --seed 21 --quality --intersections sex,race \
  --json "$name.audit.json" -o "$name.audit.html" > "$name.audit.log" 2>&1
