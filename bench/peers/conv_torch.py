"""PyTorch peer of bench/arithmetic.ts: the same convolutions and matrix product, one thread.

Usage: conv_torch.py FILE, where FILE is JSON {"calls": [{"x": [b, h, w, in], "filter": [kh, kw,
in, out], "stride": s, "count": n}], "gemm": [m, k, n], "reps": r}. Times each convolution
forward (with bias), its input gradient and its filter gradient (aten.convolution_backward with
one output each), median of r runs, and sums count × time over the calls. Prints one JSON line:
{"convs": {"forward", "backpropInput", "backpropFilter"} in ms, "gemmGflops", "torch"}.
"""
import json
import os
import sys
import time

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def median_ms(reps, f):
    for _ in range(2):
        f()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2]


def conv_times(call, reps):
    b, h, w, c_in = call["x"]
    kh, kw, _, c_out = call["filter"]
    s = call["stride"]
    x = torch.randn(b, c_in, h, w)
    weight = torch.randn(c_out, c_in, kh, kw)
    bias = torch.randn(c_out)
    dy = torch.randn(b, c_out, h // s, w // s)
    # Symmetric padding: the same arithmetic as TensorFlow's "same" (which pads bottom/right).
    pad = kh // 2
    args = ([0], [s, s], [pad, pad], [1, 1], False, [0, 0], 1)

    def backward(mask):
        return torch.ops.aten.convolution_backward(dy, x, weight, *args, mask)

    with torch.no_grad():
        forward = median_ms(reps, lambda: F.conv2d(x, weight, bias, stride=s, padding=pad))
        grad_input = median_ms(reps, lambda: backward([True, False, False]))
        grad_filter = median_ms(reps, lambda: backward([False, True, False]))
    return forward, grad_input, grad_filter


def main():
    torch.set_num_threads(1)
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    reps = spec["reps"]
    totals = {"forward": 0.0, "backpropInput": 0.0, "backpropFilter": 0.0}
    for call in spec["calls"]:
        forward, grad_input, grad_filter = conv_times(call, reps)
        totals["forward"] += call["count"] * forward
        totals["backpropInput"] += call["count"] * grad_input
        totals["backpropFilter"] += call["count"] * grad_filter
    m, k, n = spec["gemm"]
    a, b = torch.randn(m, k), torch.randn(k, n)
    gemm_ms = median_ms(reps, lambda: a @ b)
    print(
        json.dumps(
            {"convs": totals, "gemmGflops": 2 * m * k * n / gemm_ms / 1e6, "torch": torch.__version__}
        )
    )


if __name__ == "__main__":
    main()
