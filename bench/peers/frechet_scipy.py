"""Peer for fairdiff's Fréchet distance: pytorch-fid's calculate_frechet_distance on scipy.

usage: frechet_scipy.py DIR [REPEATS]
Reads DIR/mu1.npy, sigma1.npy, mu2.npy, sigma2.npy (float64) and prints one JSON line:
{"fd", "seconds" (best of REPEATS, from the moments to the number), "retried" (the 1e-6
diagonal retry ran), "max_imag" (largest |imaginary part| on sqrtm's diagonal), versions}.
"""
import json
import os
import sys
import time

import numpy as np
import scipy
from scipy import linalg


def calculate_frechet_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """pytorch-fid's formula, verbatim except that it reports instead of raising."""
    mu1 = np.atleast_1d(mu1)
    mu2 = np.atleast_1d(mu2)
    sigma1 = np.atleast_2d(sigma1)
    sigma2 = np.atleast_2d(sigma2)
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    retried = False
    if not np.isfinite(covmean).all():
        retried = True
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    max_imag = 0.0
    if np.iscomplexobj(covmean):
        max_imag = float(np.max(np.abs(np.diagonal(covmean).imag)))
        covmean = covmean.real
    tr_covmean = np.trace(covmean)
    fd = diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean
    return float(fd), retried, max_imag


def main():
    folder = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    load = lambda name: np.load(os.path.join(folder, name + ".npy"))
    mu1, sigma1, mu2, sigma2 = load("mu1"), load("sigma1"), load("mu2"), load("sigma2")
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fd, retried, max_imag = calculate_frechet_distance(mu1, sigma1, mu2, sigma2)
        best = min(best, time.perf_counter() - start)
    print(json.dumps({
        "fd": fd, "seconds": best, "retried": retried, "max_imag": max_imag,
        "numpy": np.__version__, "scipy": scipy.__version__,
    }))


if __name__ == "__main__":
    main()
