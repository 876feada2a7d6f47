"""PyTorch reference of the reference recipe's CTCModel for the @ocrops/model benchmark (our own implementation).

Reads the batches prepared by bench/model/run.mjs (float32 NHWC images + label ids), trains with Adam + CTCLoss
(blank 0, zero_infinity) and prints one JSON line: images/s for training, lines/s for inference, peak RSS.
Run: .venv-bench/bin/python bench/model/torch_ref.py --data DIR --batch 16 --steps 20 --threads 1
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import torch
import torch.nn as nn


class CTCModel(nn.Module):
    """VGG extractor [d/8, d/4, d/2, d], height average pool, BiGRU(256), Linear 512->256, Linear 256->classes."""

    def __init__(self, inner_dim: int, num_chars: int, channels: int = 3):
        super().__init__()
        c = [inner_dim // 8, inner_dim // 4, inner_dim // 2, inner_dim]
        self.cnn = nn.Sequential(
            nn.Conv2d(channels, c[0], 3, 1, 1), nn.ReLU(True), nn.MaxPool2d(2, 2),
            nn.Conv2d(c[0], c[1], 3, 1, 1), nn.ReLU(True), nn.MaxPool2d(2, 2),
            nn.Conv2d(c[1], c[2], 3, 1, 1), nn.ReLU(True),
            nn.Conv2d(c[2], c[2], 3, 1, 1), nn.ReLU(True), nn.MaxPool2d((2, 1), (2, 1)),
            nn.Conv2d(c[2], c[3], 3, 1, 1, bias=False), nn.BatchNorm2d(c[3]), nn.ReLU(True),
            nn.Conv2d(c[3], c[3], 3, 1, 1, bias=False), nn.BatchNorm2d(c[3]), nn.ReLU(True),
            nn.MaxPool2d((2, 1), (2, 1)),
            nn.Conv2d(c[3], c[3], 2, 1, 0), nn.ReLU(True),
        )
        self.rnn = nn.GRU(inner_dim, 256, bidirectional=True)
        self.embedding = nn.Linear(512, 256)
        self.decoder = nn.Linear(256, num_chars)

    def forward(self, x):  # x: [B, C, H, W] -> logits [T, B, classes]
        y = self.cnn(x).mean(dim=2)  # [B, C, T]
        y = y.permute(2, 0, 1)  # [T, B, C]
        y, _ = self.rnn(y)
        return self.decoder(self.embedding(y))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--infer-batches", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--inner-dim", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    meta = json.load(open(os.path.join(args.data, "meta.json")))
    n, h, w, c = meta["shape"]
    images = np.fromfile(os.path.join(args.data, "images.f32"), dtype=np.float32).reshape(n, h, w, c)
    images = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))  # NCHW
    labels = meta["labels"]
    model = CTCModel(args.inner_dim, meta["numClasses"], c)
    opt = torch.optim.Adam(model.parameters())
    loss_fn = nn.CTCLoss(blank=0, zero_infinity=True)
    B = args.batch

    def batch(i):
        idx = [(i * B + k) % n for k in range(B)]
        x = images[idx]
        tgt = [labels[j] for j in idx]
        return x, torch.tensor([t for s in tgt for t in s], dtype=torch.long), torch.tensor([len(s) for s in tgt])

    model.train()
    times = []
    losses = []
    for step in range(args.warmup + args.steps):
        x, targets, target_lengths = batch(step)
        t0 = time.perf_counter()
        opt.zero_grad()
        out = model(x).log_softmax(2)
        input_lengths = torch.full((B,), out.shape[0], dtype=torch.long)
        loss = loss_fn(out, targets, input_lengths, target_lengths)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        times.append(time.perf_counter() - t0)
    train = times[args.warmup:]
    model.eval()
    inf_times = []
    with torch.no_grad():
        for i in range(args.infer_batches + 1):
            x, _, _ = batch(i)
            t0 = time.perf_counter()
            out = model(x)
            best = out.argmax(2).t().tolist()  # greedy decode on the host, as the JS side does
            _ = [[k for j, k in enumerate(s) if k != 0 and (j == 0 or s[j - 1] != k)] for s in best]
            inf_times.append(time.perf_counter() - t0)
    inf = inf_times[1:]
    print(json.dumps({
        "impl": "pytorch", "version": torch.__version__, "threads": args.threads, "batch": B, "steps": args.steps,
        "msPerStep": 1000 * sum(train) / len(train),
        "imagesPerSec": B * len(train) / sum(train),
        "inferLinesPerSec": B * len(inf) / sum(inf),
        "firstLoss": losses[0], "lastLoss": losses[-1],
        "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
