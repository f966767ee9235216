#!/bin/sh
# Race, seed 3, prompted references: prior weight 1000 and 10000, side by side.
R=race=Asian:0.34,Black:0.33,White:0.33
./run.sh pp1000-s3 3 $R --changed-reference prompted --prior-weight 1000 &
./run.sh pp10000-s3 3 $R --changed-reference prompted --prior-weight 10000 &
wait
