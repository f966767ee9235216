#!/bin/sh
# Race, seed 3: prior weight 100; prior weight 1000 with semantic weight 100. Side by side.
R=race=Asian:0.34,Black:0.33,White:0.33
./run.sh pp100-s3 3 $R --changed-reference prompted --prior-weight 100 &
./run.sh pp1000sw100-s3 3 $R --changed-reference prompted --prior-weight 1000 --semantic-weight 100 &
wait
