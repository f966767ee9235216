#!/bin/sh
# #24 on the retrained cxr-mini: base audit, then race (seeds 3, 4) with the best settings so far.
F="node /work/main/dist/src/cli/main.js"
$F audit -n 256 --seed 21 --quality --intersections sex,race --json base.audit.json -o base.audit.html > base.audit.log 2>&1
for s in 3 4; do
  ( /usr/bin/time -v $F finetune --method align --target race=Asian:0.34,Black:0.33,White:0.33 --steps 300 --seed $s \
      --trainable unet-lora --lr 1e-2 --semantic-features pixels --out px300-s$s.fdckpt > px300-s$s.log 2>&1
    $F audit -m px300-s$s.fdckpt -n 256 --seed 21 --quality --intersections sex,race --json px300-s$s.audit.json -o px300-s$s.audit.html > px300-s$s.audit.log 2>&1 ) &
done
wait
echo done > done.txt
