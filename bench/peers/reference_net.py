"""PyTorch peer of src/backend/referenceConvNet.ts: the same five-conv net, Adam, batch 32.

Prints one JSON line: {"ms_per_step": ..., "ms_forward": ..., "params": ..., "threads": ...}.
Usage: reference_net.py STEPS THREADS
"""
import json
import os
import sys
import time

# Debian's torch runs matrix products in OpenBLAS, which ignores torch.set_num_threads:
# pin its pool (and OpenMP's) before torch loads, or "1 thread" quietly uses every core.
if __name__ == "__main__" and len(sys.argv) > 2:
    os.environ["OPENBLAS_NUM_THREADS"] = sys.argv[2]
    os.environ["OMP_NUM_THREADS"] = sys.argv[2]

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

CONVS = [(1, 16, 1), (16, 32, 1), (32, 64, 1), (64, 64, 1), (64, 26, 1)]


class ReferenceNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(i, o, 3, stride=s, padding=1) for i, o, s in CONVS)
        self.head = nn.Linear(CONVS[-1][1], 10)

    def forward(self, x):
        for conv in self.convs:
            x = F.relu(conv(x))
        return self.head(x.mean(dim=(2, 3)))


def main():
    steps = int(sys.argv[1])
    threads = int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = ReferenceNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    images = torch.randn(32, 1, 32, 32)
    labels = torch.arange(32) % 10

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(images), labels)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(3):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    per_step = (time.perf_counter() - start) / steps * 1000
    with torch.no_grad():
        start = time.perf_counter()
        for _ in range(steps):
            net(images).sum().item()
        forward = (time.perf_counter() - start) / steps * 1000
    params = sum(p.numel() for p in net.parameters())
    print(json.dumps({"ms_per_step": per_step, "ms_forward": forward, "params": params, "threads": threads}))


if __name__ == "__main__":
    main()
