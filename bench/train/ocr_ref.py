"""The OCR sets' reference recipes in PyTorch, trained on ocrops's prepared split: the peer rows of bench/train.

Recipes (--recipe), each as its source describes it (see ../shared/seeds/NOTES.md):
  captcha   the Keras captcha recipe: gray 50x200 with the width as time, 2 x (conv 3x3 + ReLU + max-pool 2) with
            32 and 64 channels, dense 64 + ReLU + dropout 0.2, BiLSTM 128 -> BiLSTM 64 (dropout 0.25), softmax; Keras's
            initialisers; CTC per line averaged over the batch (ctc_batch_cost); Adam 1e-3, batch 16, up to 100 epochs,
            early stopping with patience 10 on val_loss restoring the best weights.
  ctcmodel  the reference CTCModel (bench/model/torch_ref.py, inner_dim 128): [0, 1] pixels right-padded with white to
            the batch's widest line; CTC mean; Adam 1e-3, batch 32, 50 epochs, the best epoch by val_loss.
  plates    the licence-plate recipe (bench/model/arch_ref.py PlateResNet18): 64x320 RGB, 20 steps, CTC mean;
            Adam 3e-4 with AMSGrad and weight decay 1e-4, batch 128, 10 epochs, the best epoch by val_loss.
  crnn      the Synth90k CRNN (arch_ref.py Synth90kCRNN): gray 32x100 scaled to [-1, 1], CTC sum; RMSprop 5e-4,
            batch 32, the best epoch by val_loss.
--epochs and --minutes (checked after each epoch) override the recipe's length. Every recipe decodes greedily.

Prints one JSON line: the test split's field accuracy, acc_by_char (the reference recipe's difflib F1), CER and WER,
with epochs, the best epoch, training images/s and wall time; per-epoch progress goes to stderr.
Run: .venv-bench/bin/python bench/train/ocr_ref.py --prepared runs/bench/data/captcha-v2 --recipe captcha --threads 1
"""
import argparse
import copy
import difflib
import json
import math
import os
import sys
import time
import unicodedata

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model"))
from arch_ref import PlateResNet18, Synth90kCRNN  # noqa: E402
from torch_ref import CTCModel  # noqa: E402


class KerasCaptcha(nn.Module):
    """The Keras captcha recipe's network in PyTorch terms, with Keras's default initialisers."""

    def __init__(self, height: int, width: int, classes: int):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.dense = nn.Linear(64 * (height // 4), 64)
        self.drop = nn.Dropout(0.2)
        self.rnn1 = nn.LSTM(64, 128, bidirectional=True)
        self.rnn2 = nn.LSTM(256, 64, bidirectional=True)
        self.rnn_drop = nn.Dropout(0.25)
        self.out = nn.Linear(128, classes)
        self.keras_init()

    def keras_init(self) -> None:
        for conv in (self.conv1, self.conv2):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")  # he_normal
            nn.init.zeros_(conv.bias)
        for lin in (self.dense, self.out):
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)
        for rnn in (self.rnn1, self.rnn2):
            for name, p in rnn.named_parameters():
                if name.startswith("weight_ih"):
                    for gate in p.data.chunk(4, 0):
                        nn.init.xavier_uniform_(gate)
                elif name.startswith("weight_hh"):
                    for gate in p.data.chunk(4, 0):
                        nn.init.orthogonal_(gate)
                else:
                    nn.init.zeros_(p)
                    if name.startswith("bias_ih"):
                        p.data[rnn.hidden_size:2 * rnn.hidden_size] = 1.0  # unit_forget_bias

    def forward(self, x):  # [B, 1, H, W] -> [T = W/4, B, classes]
        y = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        y = F.max_pool2d(torch.relu(self.conv2(y)), 2)
        b, c, h, w = y.shape
        y = y.permute(3, 0, 2, 1).reshape(w, b, h * c)  # the width is time
        y = self.drop(torch.relu(self.dense(y)))
        y, _ = self.rnn1(y)
        y, _ = self.rnn2(self.rnn_drop(y))
        return self.out(self.rnn_drop(y))


RECIPES = {
    # size: a fixed input size (height, width) the lines are resized to; None keeps the prepared height and pads widths
    "captcha": dict(size=None, gray=True, batch=16, epochs=100, patience=10, reduction="batch", scale="unit"),
    "ctcmodel": dict(size=None, gray=None, batch=32, epochs=50, patience=0, reduction="mean", scale="unit"),
    "plates": dict(size=(64, 320), gray=False, batch=128, epochs=10, patience=0, reduction="mean", scale="unit"),
    "crnn": dict(size=(32, 100), gray=True, batch=32, epochs=40, patience=0, reduction="sum", scale="signed"),
}


def build(recipe: str, channels: int, height: int, width: int, classes: int) -> nn.Module:
    if recipe == "captcha":
        return KerasCaptcha(height, width, classes)
    if recipe == "ctcmodel":
        return CTCModel(128, classes, channels)
    if recipe == "plates":
        return PlateResNet18(channels, width, 20, classes)
    return Synth90kCRNN(channels, height, classes)


def optimizer(recipe: str, params):
    if recipe == "plates":
        return torch.optim.Adam(params, lr=3e-4, weight_decay=1e-4, amsgrad=True)
    if recipe == "crnn":
        return torch.optim.RMSprop(params, lr=5e-4)
    return torch.optim.Adam(params, lr=1e-3)


def load_split(prepared: str, split: str, chars: list, cfg: dict):
    """A prepared split as [C, H, W] float tensors in the recipe's size and scale (converted once), label id lists
    (blank 0, chars from 1) and label texts."""
    index = json.load(open(os.path.join(prepared, split, "index.json"), encoding="utf8"))
    raw = np.fromfile(os.path.join(prepared, split, "images.bin"), dtype=np.uint8)
    h, c = index["height"], index["channels"]
    ids = {ch: i + 1 for i, ch in enumerate(chars)}
    images, off = [], 0
    for w in index["widths"]:
        images.append(to_input(raw[off:off + h * w * c].reshape(h, w, c), cfg))
        off += h * w * c
    labels = [[ids[ch] for ch in text] for text in index["labels"]]
    return images, labels, index["labels"]


def to_input(pixels: np.ndarray, cfg: dict) -> torch.Tensor:
    """uint8 [H, W, C] -> float32 [C, H, W] of the recipe's channels, size and scale."""
    x = torch.from_numpy(pixels.astype(np.float32) / 255.0).permute(2, 0, 1)
    if cfg["gray"] and x.shape[0] == 3:
        x = x.mean(0, keepdim=True)
    if cfg["size"] is not None:
        x = F.interpolate(x[None], size=cfg["size"], mode="bilinear", align_corners=False)[0]
    return x * 2 - 1 if cfg["scale"] == "signed" else x


def to_batch(images: list, cfg: dict) -> torch.Tensor:
    """NCHW batch; lines kept at their own width are right-padded with white (1.0, the paper of the [0, 1] scale)."""
    if cfg["size"] is not None:
        return torch.stack(images)
    width = max(t.shape[2] for t in images)
    return torch.stack([F.pad(t, (0, width - t.shape[2]), value=1.0) for t in images])


def ctc_loss(logits: torch.Tensor, labels: list, reduction: str) -> torch.Tensor:
    """CTC of [T, B, classes] logits against label id lists: `mean` (per line over its length, batch-averaged, PyTorch's
    default), `sum`, or `batch` (per line, batch-averaged: Keras's ctc_batch_cost)."""
    t, b, _ = logits.shape
    targets = torch.tensor([i for lab in labels for i in lab], dtype=torch.long)
    lengths = torch.tensor([len(lab) for lab in labels], dtype=torch.long)
    per_line = F.ctc_loss(logits.log_softmax(2), targets, torch.full((b,), t, dtype=torch.long), lengths,
                          blank=0, reduction="none", zero_infinity=True)
    if reduction == "mean":
        return (per_line / lengths.clamp(min=1)).mean()
    return per_line.sum() if reduction == "sum" else per_line.mean()


def greedy(logits: torch.Tensor, chars: list) -> list:
    best = logits.argmax(2).t().tolist()
    return ["".join(chars[k - 1] for j, k in enumerate(s) if k != 0 and (j == 0 or s[j - 1] != k)) for s in best]


def acc_by_char(pred: str, target: str) -> float:
    """The reference recipe's calculate_ac: F1 of difflib's matched characters."""
    if not pred and not target:
        return 1.0
    if not pred or not target:
        return 0.0
    correct = sum(m.size for m in difflib.SequenceMatcher(None, pred, target).get_matching_blocks())
    if correct == 0:
        return 0.0
    p, r = correct / len(pred), correct / len(target)
    return 2 * p * r / (p + r)


def edit_distance(a: list, b: list) -> int:
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j - 1] + (a[i - 1] != b[j - 1]), prev[j] + 1, cur[j - 1] + 1)
        prev = cur
    return prev[-1]


def scores(preds: list, targets: list) -> dict:
    nfc = lambda s: unicodedata.normalize("NFC", s)  # noqa: E731
    char_errors = sum(edit_distance(list(p), list(t)) for p, t in zip(preds, targets))
    word_errors = sum(edit_distance(nfc(p).split(), nfc(t).split()) for p, t in zip(preds, targets))
    return {
        "count": len(targets),
        "acc_by_field": sum(nfc(p) == nfc(t) for p, t in zip(preds, targets)) / len(targets),
        "acc_by_char": sum(acc_by_char(p, t) for p, t in zip(preds, targets)) / len(targets),
        "cer": char_errors / max(1, sum(len(t) for t in targets)),
        "wer": word_errors / max(1, sum(len(nfc(t).split()) for t in targets)),
    }


def evaluate(model, split, cfg, chars) -> dict:
    """Loss (the recipe's reduction, averaged over batches) and greedy-decoding scores of a split."""
    images, labels, texts = split
    model.eval()
    losses, preds = [], []
    with torch.no_grad():
        for i in range(0, len(images), cfg["batch"]):
            logits = model(to_batch(images[i:i + cfg["batch"]], cfg))
            losses.append(ctc_loss(logits, labels[i:i + cfg["batch"]], cfg["reduction"]).item())
            preds += greedy(logits, chars)
    return {"loss": float(np.mean(losses)), **scores(preds, texts), "examples": list(zip(preds, texts))[:5]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prepared", required=True, help="an ocrops prepared set (meta.json, train/val/test shards)")
    ap.add_argument("--recipe", choices=sorted(RECIPES), required=True)
    ap.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    ap.add_argument("--minutes", type=float, default=None, help="training time budget, checked after each epoch")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    cfg = RECIPES[args.recipe]
    meta = json.load(open(os.path.join(args.prepared, "meta.json"), encoding="utf8"))
    chars = meta["charset"]["chars"]
    train, val, test = (load_split(args.prepared, s, chars, cfg) for s in ("train", "val", "test"))
    probe = to_batch(train[0][:1], cfg)
    model = build(args.recipe, probe.shape[1], probe.shape[2], probe.shape[3], len(chars) + 1)
    opt = optimizer(args.recipe, model.parameters())
    epochs = args.epochs or cfg["epochs"]
    best, best_state, since_best, history = math.inf, None, 0, []
    t0, train_seconds, seen = time.time(), 0.0, 0
    for epoch in range(1, epochs + 1):
        model.train()
        order = rng.permutation(len(train[0]))
        te = time.time()
        losses = []
        for i in range(0, len(order), cfg["batch"]):
            idx = order[i:i + cfg["batch"]]
            loss = ctc_loss(model(to_batch([train[0][j] for j in idx], cfg)), [train[1][j] for j in idx],
                            cfg["reduction"])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            seen += len(idx)
        train_seconds += time.time() - te
        v = evaluate(model, val, cfg, chars)
        history.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "val_loss": v["loss"],
                        "val_acc_by_field": v["acc_by_field"], "val_acc_by_char": v["acc_by_char"]})
        print(f"epoch {epoch}: train_loss {np.mean(losses):.4f} val_loss {v['loss']:.4f} "
              f"val field {v['acc_by_field']:.3f} acc_by_char {v['acc_by_char']:.3f} ({time.time() - t0:.0f} s)",
              file=sys.stderr, flush=True)
        if v["loss"] < best:
            best, best_state, since_best = v["loss"], copy.deepcopy(model.state_dict()), 0
        else:
            since_best += 1
        if cfg["patience"] and since_best >= cfg["patience"]:
            break
        if args.minutes is not None and time.time() - t0 >= args.minutes * 60:
            break
    model.load_state_dict(best_state)
    best_epoch = min(history, key=lambda h: h["val_loss"])["epoch"]
    print(json.dumps({
        "impl": "pytorch", "version": torch.__version__, "recipe": args.recipe, "seed": args.seed,
        "threads": args.threads, "epochs": len(history), "best_epoch": best_epoch,
        "train_images_per_second": seen / max(train_seconds, 1e-9), "wall_time_seconds": time.time() - t0,
        "val": evaluate(model, val, cfg, chars), "test": evaluate(model, test, cfg, chars), "history": history,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
