#!/bin/sh
# The documented Method 1 command of this part and its audit (600 steps for every target; the
# assignment feedback is on by default with the distillation):
#   run.sh NAME SEED TARGET [more finetune flags…]
# From this folder with the repository built; writes NAME.log, NAME.fdckpt, NAME.audit.{log,json,html}.
name=$1; seed=$2; target=$3; shift 3
exec sh ../2026-12-06-guided/run.sh "$name" "$seed" "$target" 600 --prior-captions training --prior-chain original "$@"
