#!/bin/sh
# The documented Method 1 command of this part and its audit: part 6's (../2026-12-06-guided/run.sh)
# with the prior term holding the model's training captions.
#   run.sh NAME SEED TARGET STEPS [more finetune flags…]
# From this folder with the repository built; writes NAME.log, NAME.fdckpt, NAME.audit.{log,json,html}.
exec sh ../2026-12-06-guided/run.sh "$@" --prior-captions training
