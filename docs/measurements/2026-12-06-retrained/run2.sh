#!/bin/sh
# The same runs ending on the moving average of the weights (--ema 0.98).
F="node /work/main/dist/src/cli/main.js"
for s in 3 4; do
  ( /usr/bin/time -v $F finetune --method align --target race=Asian:0.34,Black:0.33,White:0.33 --steps 300 --seed $s \
      --trainable unet-lora --lr 1e-2 --semantic-features pixels --ema 0.98 --out px300ema-s$s.fdckpt > px300ema-s$s.log 2>&1
    $F audit -m px300ema-s$s.fdckpt -n 256 --seed 21 --quality --intersections sex,race --json px300ema-s$s.audit.json -o px300ema-s$s.audit.html > px300ema-s$s.audit.log 2>&1 ) &
done
wait
echo done > done2.txt
