#!/bin/sh
# Race, seed 3, prior weight 1000: LoRA rank 16 on the UNet; LoRA (rank 4) on the text encoder and the UNet.
R=race=Asian:0.34,Black:0.33,White:0.33
./run.sh pp1000r16-s3 3 $R --changed-reference prompted --prior-weight 1000 --rank 16 &
( node tune_both.js pp1000both-s3.fdckpt 3 1000 > pp1000both-s3.log 2>&1
  F="${FAIRDIFF:-node ../../../dist/src/cli/main.js}"
  $F audit -m pp1000both-s3.fdckpt -n 256 --seed 21 --quality --intersections sex,race \
    --json pp1000both-s3.audit.json -o pp1000both-s3.audit.html > pp1000both-s3.audit.log 2>&1 ) &
wait
