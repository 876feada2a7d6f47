"""The reference recipe's export: its CTCModel in PyTorch (bench/model/torch_ref.py, random weights of the
same shape as the ocrops model) exported with torch.onnx.export, dynamic batch and width.
Usage: .venv-bench/bin/python bench/serve/torch_export.py --classes N --out model.onnx
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "model"))
from torch_ref import CTCModel  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--classes", type=int, required=True)
    ap.add_argument("--inner-dim", type=int, default=128)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.manual_seed(7)
    model = CTCModel(a.inner_dim, a.classes, 3).eval()
    x = torch.rand(1, 3, 64, 256)
    torch.onnx.export(
        model, (x,), a.out, input_names=["image"], output_names=["logits"], opset_version=17, dynamo=False,
        dynamic_axes={"image": {0: "batch", 3: "width"}, "logits": {0: "frames", 1: "batch"}},
    )


if __name__ == "__main__":
    main()
