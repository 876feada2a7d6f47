"""Drives an ocrops inference server that serves an image classifier with the official, unmodified tritonclient[http]
(KServe v2 / Open Inference Protocol) and prints what it got back as JSON, for test/serve-classify.test.ts to check.

Usage: serve_tritonclient_classify.py <host:port> <model name> <height> <width> <channels> <image> [<image> ...]
"""
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def main() -> None:
    url, model, height, width, channels, *images = sys.argv[1:]
    height, width, channels = int(height), int(width), int(channels)
    client = httpclient.InferenceServerClient(url=url)
    out = {"model_ready": client.is_model_ready(model), "metadata": client.get_model_metadata(model)}
    encoded = [open(p, "rb").read() for p in images]

    # encoded images as a BYTES tensor, binary tensor extension (the client's default), top_k 3
    inp = httpclient.InferInput("image", [len(encoded)], "BYTES")
    inp.set_data_from_numpy(np.array(encoded, dtype=np.object_))
    res = client.infer(model, [inp], parameters={"top_k": 3})
    out["binary"] = {
        "label": [[x.decode("utf-8") for x in row] for row in res.as_numpy("label")],
        "probability": res.as_numpy("probability").tolist(),
        "probability_dtype": str(res.as_numpy("probability").dtype),
    }

    # a UINT8 pixel tensor [1, height, width, channels], outputs as JSON, the default top-k
    pixels = np.full((1, height, width, channels), 255, dtype=np.uint8)
    inp = httpclient.InferInput("pixels", list(pixels.shape), "UINT8")
    inp.set_data_from_numpy(pixels)
    outs = [httpclient.InferRequestedOutput(n, binary_data=False) for n in ("label", "probability")]
    res = client.infer(model, [inp], outputs=outs)
    out["pixels"] = {"label_shape": list(res.as_numpy("label").shape), "probability_shape": list(res.as_numpy("probability").shape)}

    # errors arrive as InferenceServerException with the server's message
    try:
        inp = httpclient.InferInput("image", [1], "BYTES")
        inp.set_data_from_numpy(np.array([encoded[0]], dtype=np.object_))
        client.infer(model, [inp], parameters={"top_k": 10000})
        out["error"] = None
    except InferenceServerException as e:
        out["error"] = str(e)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
