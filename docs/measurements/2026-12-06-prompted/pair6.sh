#!/bin/sh
# Race, seed 3, prompted references compared by the images' mean squared difference
# (--semantic-features images, weight 1000), prior 1000: without and with the cross-entropy.
R=race=Asian:0.34,Black:0.33,White:0.33
./run.sh img-fw0-s3 3 $R --changed-reference prompted --prior-weight 1000 --semantic-features images --semantic-weight 1000 --fairness-weight 0 &
./run.sh img-fw1-s3 3 $R --changed-reference prompted --prior-weight 1000 --semantic-features images --semantic-weight 1000 &
wait
