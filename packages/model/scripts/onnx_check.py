#!/usr/bin/env python3
"""Checks an exported ocrops ONNX model with the onnx package (full check, with shape inference) and runs it with
Python onnxruntime on a float32 NHWC batch.

Usage: onnx_check.py MODEL.onnx INPUT.f32 B,H,W,C OUTPUT.f32
  INPUT.f32   raw little-endian float32 image batch [B, H, W, C]
  OUTPUT.f32  written: raw little-endian float32 logits [B, T, classes]
Prints one JSON line: {"opset", "inputs", "outputs", "shape"}.
"""
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    model_path, input_path, shape_text, output_path = argv[1:]
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    shape = [int(v) for v in shape_text.split(",")]
    images = np.fromfile(input_path, dtype="<f4").reshape(shape)
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], {"image": images})
    np.ascontiguousarray(logits, dtype="<f4").tofile(output_path)
    print(json.dumps({
        "opset": [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")][0],
        "inputs": [i.name for i in session.get_inputs()],
        "outputs": [o.name for o in session.get_outputs()],
        "shape": list(logits.shape),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
