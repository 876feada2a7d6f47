"""PyTorch peer of the reference image-classification recipe (a PyTorch ImageFolder CNN) for the training benchmark.

Our own implementation of the recipe: a four-conv CNN (kernels 5, 5, 3, 5; channels base, 2x, 4x, 8x; ReLU and a
2x2 max-pool after each conv; one linear layer), cross-entropy, Adam lr 1e-3, and the recipe's augmentation done with
plain tensor ops (no torchvision): random horizontal and vertical flips, colour jitter 0.2 of brightness, contrast and
saturation, a random affine shift of up to 0.1 and scale 0.9-1.1 (edge fill); the values come from the `augment` of the
prepared meta.json (the data config's), --no-augment turns it off.

The split is the one `ocrops data prepare` made: split.csv (path,label,split) of the prepared folder says which image is
in which split; the pixels are read from the prepared shards (<split>/images.bin, uint8 HWC, in index.json order), so
both sides train on the same decoded images. Trains until the time budget or the epochs end, then writes top-1/top-5 on
the test split, epochs reached and images/s as JSON.

Run: .venv-bench/bin/python bench/train/classify_ref.py --prepared data/prepared/butterflies-75 --minutes 2 \
       --threads 1 --epochs 70 --out /tmp/classify_ref.json
"""
import argparse
import csv
import json
import os
import resource
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class CNN4(nn.Module):
    """Four conv blocks (kernels 5, 5, 3, 5; channels doubling from `base`), each ReLU + 2x2 max-pool; one linear layer."""

    def __init__(self, num_classes: int, height: int, width: int, channels: int = 3, base: int = 32):
        super().__init__()
        layers = []
        cin = channels
        for i, k in enumerate([5, 5, 3, 5]):
            cout = base * 2**i
            layers += [nn.Conv2d(cin, cout, k, 1, k // 2), nn.ReLU(True), nn.MaxPool2d(2, 2)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(cin * (height // 16) * (width // 16), num_classes)

    def forward(self, x):  # x: [B, C, H, W] in [0, 1]
        return self.classifier(torch.flatten(self.features(x), 1))


def grey(x):
    """Grey level [B, 1, H, W] of RGB images (0.299 R + 0.587 G + 0.114 B); the image itself when grey."""
    if x.shape[1] == 1:
        return x
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


def augment(x, gen, jitter=0.2, translate=0.1, scale=(0.9, 1.1), hflip_p=0.5, vflip_p=0.5, fill="edge"):
    """The recipe's augmentation of a batch [B, C, H, W], each image drawn on its own."""
    b = x.shape[0]
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(b, generator=gen)  # noqa: E731
    hflip = torch.rand(b, generator=gen) < hflip_p
    vflip = torch.rand(b, generator=gen) < vflip_p
    s = u(scale[0], scale[1])
    tx = u(-translate, translate) * 2  # affine_grid works in [-1, 1] coordinates
    ty = u(-translate, translate) * 2
    sx = torch.where(hflip, -1.0, 1.0)
    sy = torch.where(vflip, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = sx / s
    theta[:, 1, 1] = sy / s
    theta[:, 0, 2] = -tx / s * sx
    theta[:, 1, 2] = -ty / s * sy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border" if fill == "edge" else "zeros", align_corners=False)
    br = u(1 - jitter, 1 + jitter).view(b, 1, 1, 1)
    x = (x * br).clamp(0, 1)
    ct = u(1 - jitter, 1 + jitter).view(b, 1, 1, 1)
    mean = grey(x).mean(dim=(1, 2, 3), keepdim=True)
    x = (x * ct + (1 - ct) * mean).clamp(0, 1)
    if x.shape[1] == 3:
        sat = u(1 - jitter, 1 + jitter).view(b, 1, 1, 1)
        x = (x * sat + (1 - sat) * grey(x)).clamp(0, 1)
    return x


def augment_options(meta_augment):
    """augment() keyword arguments from the `augment` of the prepared meta.json (the data config's), or None when off."""
    if not meta_augment:
        return None
    return {
        "jitter": meta_augment.get("colorJitter", 0.2),
        "translate": meta_augment.get("translate", 0.1),
        "scale": tuple(meta_augment.get("scale", [0.9, 1.1])),
        "hflip_p": 0.5 if meta_augment.get("hflip", True) else 0.0,
        "vflip_p": 0.5 if meta_augment.get("vflip", True) else 0.0,
        "fill": meta_augment.get("fill", "edge"),
    }


def load_split(prepared, split, rows, classes, meta):
    """Pixels (uint8 memmap [N, H, W, C]) and class indices of one split, in split.csv order."""
    index = json.load(open(os.path.join(prepared, split, "index.json"), encoding="utf-8"))
    h, w, c = meta["height"], meta["width"], meta["channels"]
    pixels = np.memmap(os.path.join(prepared, split, "images.bin"), dtype=np.uint8, mode="r", shape=(index["count"], h, w, c))
    position = {name: i for i, name in enumerate(index["ids"])}
    cls = {name: i for i, name in enumerate(classes)}
    order, labels = [], []
    for path, label in rows:
        if path not in position:
            raise SystemExit(f"{prepared}/split.csv: {path} (split {split}) is not in {split}/index.json; prepare again")
        order.append(position[path])
        labels.append(cls[label])
    return pixels, np.array(order, dtype=np.int64), np.array(labels, dtype=np.int64)


def to_tensor(pixels, idx):
    return torch.from_numpy(np.ascontiguousarray(pixels[idx])).permute(0, 3, 1, 2).float().div_(255)


def evaluate(model, pixels, order, labels, batch):
    """Top-1 and top-5 accuracy over a split."""
    model.eval()
    top1 = top5 = 0
    with torch.no_grad():
        for s in range(0, len(order), batch):
            logits = model(to_tensor(pixels, order[s : s + batch]))
            y = torch.from_numpy(labels[s : s + batch])
            best = logits.topk(min(5, logits.shape[1]), dim=1).indices
            top1 += int((best[:, 0] == y).sum())
            top5 += int((best == y[:, None]).any(dim=1).sum())
    model.train()
    n = max(1, len(order))
    return top1 / n, top5 / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prepared", required=True, help="prepared classification folder (meta.json, split.csv, shards)")
    ap.add_argument("--minutes", type=float, default=2.0, help="training time budget")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=70)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--base", type=int, default=32, help="channels of the first conv (doubling after)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-augment", action="store_true")
    ap.add_argument(
        "--curve", action="store_true", help="validate after every epoch (history gains val_top1; not counted in the budget)"
    )
    ap.add_argument("--out", required=True, help="result JSON file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    meta = json.load(open(os.path.join(args.prepared, "meta.json"), encoding="utf-8"))
    if meta.get("task") != "classify":
        raise SystemExit(f"{args.prepared}/meta.json: not a prepared classification set (task {meta.get('task')!r})")
    classes = meta["classes"]
    rows = {"train": [], "val": [], "test": []}
    with open(os.path.join(args.prepared, "split.csv"), newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rows[r["split"]].append((r["path"], r["label"]))
    data = {s: load_split(args.prepared, s, rows[s], classes, meta) for s in rows}

    aug = None if args.no_augment else augment_options(meta.get("augment"))
    model = CNN4(len(classes), meta["height"], meta["width"], meta["channels"], args.base)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    pixels, order, labels = data["train"]
    budget = args.minutes * 60
    t0 = time.perf_counter()
    seen = 0
    epochs = 0.0
    history = []
    stop = False
    for epoch in range(args.epochs):
        perm = torch.randperm(len(order), generator=gen).numpy()
        nb = (len(order) + args.batch - 1) // args.batch
        for b in range(nb):
            idx = perm[b * args.batch : (b + 1) * args.batch]
            x = to_tensor(pixels, order[idx])
            if aug is not None:
                x = augment(x, gen, **aug)
            loss = F.cross_entropy(model(x), torch.from_numpy(labels[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            seen += len(idx)
            if time.perf_counter() - t0 > budget:
                epochs = epoch + (b + 1) / nb
                stop = True
                break
        if stop:
            break
        epochs = epoch + 1
        point = {"epoch": epoch + 1, "loss": loss.item(), "seconds": round(time.perf_counter() - t0, 1)}
        if args.curve:
            paused = time.perf_counter()
            point["val_top1"], point["val_top5"] = evaluate(model, *data["val"], 128)
            t0 += time.perf_counter() - paused
        history.append(point)
    train_seconds = time.perf_counter() - t0
    val1, val5 = evaluate(model, *data["val"], 128)
    top1, top5 = evaluate(model, *data["test"], 128)
    result = {
        "peer": "pytorch",
        "recipe": "cnn4 ImageFolder classifier, Adam 1e-3, flips + colour jitter 0.2 + affine 0.1/0.9-1.1",
        "prepared": os.path.abspath(args.prepared),
        "classes": len(classes),
        "counts": {s: len(data[s][1]) for s in data},
        "threads": args.threads,
        "batch": args.batch,
        "base": args.base,
        "augment": aug,
        "minutes": args.minutes,
        "epochs_reached": round(epochs, 3),
        "train_seconds": round(train_seconds, 1),
        "images_per_second": round(seen / train_seconds, 1),
        "val_top1": round(val1, 4),
        "val_top5": round(val5, 4),
        "test_top1": round(top1, 4),
        "test_top5": round(top5, 4),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "history": history,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "history"}))


if __name__ == "__main__":
    main()
