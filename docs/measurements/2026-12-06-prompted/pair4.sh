#!/bin/sh
# Race, seed 3, prior 1000, semantic weight 100 with prompted references: the classifier's
# cross-entropy off (the prompted references alone) and at 0.1.
R=race=Asian:0.34,Black:0.33,White:0.33
./run.sh fw0-s3 3 $R --changed-reference prompted --prior-weight 1000 --semantic-weight 100 --fairness-weight 0 &
./run.sh fw01-s3 3 $R --changed-reference prompted --prior-weight 1000 --semantic-weight 100 --fairness-weight 0.1 &
wait
