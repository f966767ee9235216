#!/bin/sh
# Race, seed 4: prior weight 100 and 1000 (prompted references), the second seed of each.
R=race=Asian:0.34,Black:0.33,White:0.33
./run.sh pp100-s4 4 $R --changed-reference prompted --prior-weight 100 &
./run.sh pp1000-s4 4 $R --changed-reference prompted --prior-weight 1000 &
wait
