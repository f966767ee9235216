#!/bin/sh
# The documented Method 1 command of this part and its audit: part 8's (../2026-12-06-feedback/run.sh)
# with the distillation's teacher at classifier-free guidance 2 instead of the sampler's 3.
#   run.sh NAME SEED TARGET [more finetune flags…]
# From this folder with the repository built; writes NAME.log, NAME.fdckpt, NAME.audit.{log,json,html}.
name=$1; seed=$2; target=$3; shift 3
exec sh ../2026-12-06-feedback/run.sh "$name" "$seed" "$target" --teacher-guidance-scale 2 "$@"
