"""The reference recipe's server: Flask + Python onnxruntime serving the torch-exported CTCModel, one image per request
(PIL decode, RGB on white, resize to height 64 keeping the aspect ratio, /255, NCHW), greedy CTC decoding in numpy.
Run under gunicorn: OCROPS_BENCH_ONNX=model.onnx OCROPS_BENCH_CHARSET=charset.json OCROPS_BENCH_THREADS=1 \
    .venv-bench/bin/gunicorn -w 2 -b 127.0.0.1:PORT --chdir bench/serve flask_app:app
"""
import io
import json
import os
import time

import numpy as np
import onnxruntime as ort
from flask import Flask, jsonify, request
from PIL import Image

HEIGHT = 64
opts = ort.SessionOptions()
threads = int(os.environ.get("OCROPS_BENCH_THREADS", "0"))
if threads > 0:
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
session = ort.InferenceSession(os.environ["OCROPS_BENCH_ONNX"], opts, providers=["CPUExecutionProvider"])
charset = json.load(open(os.environ["OCROPS_BENCH_CHARSET"], encoding="utf-8"))
app = Flask(__name__)


def preprocess(data: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(data))
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img)
    img = img.convert("RGB")
    w = max(1, min(HEIGHT * 40, round(img.width * HEIGHT / img.height)))
    img = img.resize((w, HEIGHT), Image.LANCZOS)
    x = np.asarray(img, dtype=np.float32) / 255.0  # [H, W, 3]
    return x.transpose(2, 0, 1)[None]  # [1, 3, H, W]


def greedy(logits: np.ndarray):  # [T, C]
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    best = logp.argmax(axis=1)
    out, prev = [], -1
    for k in best:
        if k != prev and k != 0:
            out.append(charset[k - 1])
        prev = k
    return "".join(out), float(np.exp(logp.max(axis=1).mean()))


@app.post("/predict")
def predict():
    started = time.perf_counter()
    data = request.files["file"].read() if "file" in request.files else request.get_data()
    if not data:
        return jsonify(error="empty body"), 400
    try:
        x = preprocess(data)
    except Exception as e:  # noqa: BLE001
        return jsonify(error=f"not an image: {e}"), 400
    logits = session.run(["logits"], {"image": x})[0][:, 0, :]
    text, confidence = greedy(logits)
    return jsonify(text=text, confidence=confidence, ms=(time.perf_counter() - started) * 1000)
