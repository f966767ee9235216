#!/bin/sh
# One Method 2 (subgroup-aligned tuning) run and its audit: run2.sh NAME SEED TARGET [more finetune flags…]
# From this folder with the repository built; writes NAME.log, NAME.fdckpt, NAME.audit.{log,json,html}.
F="${FAIRDIFF:-node ../../../dist/src/cli/main.js}"
name=$1; seed=$2; target=$3; shift 3
/usr/bin/time -v $F finetune --method subgroup --target "$target" --steps 150 --batch-size 16 --lr 1e-3 \
  --seed "$seed" "$@" --out "$name.fdckpt" > "$name.log" 2>&1
$F audit -m "$name.fdckpt" -n 256 --seed 21 --quality --intersections sex,race \
  --json "$name.audit.json" -o "$name.audit.html" > "$name.audit.log" 2>&1
