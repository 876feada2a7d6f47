"""Drives an ocrops inference server with the official, unmodified tritonclient[http] (KServe v2 / Open Inference
Protocol) and prints what it got back as JSON, for test/serve.test.ts to check.

Usage: serve_tritonclient.py <host:port> <model name> <height> <channels> <image> [<image> ...]
"""
import base64
import json
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


def main() -> None:
    url, model, height, channels, *images = sys.argv[1:]
    height, channels = int(height), int(channels)
    client = httpclient.InferenceServerClient(url=url)
    out = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "model_ready": client.is_model_ready(model),
        "model_ready_v1": client.is_model_ready(model, model_version="1"),
        "server": client.get_server_metadata(),
        "metadata": client.get_model_metadata(model),
    }
    encoded = [open(p, "rb").read() for p in images]

    # encoded images as a BYTES tensor, binary tensor extension (the client's default)
    inp = httpclient.InferInput("image", [len(encoded)], "BYTES")
    inp.set_data_from_numpy(np.array(encoded, dtype=np.object_))
    res = client.infer(model, [inp])
    out["binary"] = {
        "text": [t.decode("utf-8") for t in res.as_numpy("text")],
        "confidence": res.as_numpy("confidence").tolist(),
        "confidence_dtype": str(res.as_numpy("confidence").dtype),
    }

    # the same as JSON, asking for the per-character confidences too, through the versioned route
    # (JSON carries BYTES elements as text, so the images go base64-encoded)
    inp = httpclient.InferInput("image", [len(encoded), 1], "BYTES")
    as_text = np.array([base64.b64encode(b).decode("ascii") for b in encoded], dtype=np.object_).reshape(-1, 1)
    inp.set_data_from_numpy(as_text, binary_data=False)
    outs = [httpclient.InferRequestedOutput(n, binary_data=False) for n in ("text", "confidence", "char_confidence")]
    res = client.infer(model, [inp], model_version="1", outputs=outs, request_id="req-7")
    out["json"] = {
        "id": res.get_response().get("id"),
        "text": [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in res.as_numpy("text")],
        "char_confidence_shape": list(res.as_numpy("char_confidence").shape),
        "char_confidence": res.as_numpy("char_confidence").tolist(),
    }

    # a UINT8 pixel tensor [1, height, 40, channels]: a white line
    pixels = np.full((1, height, 40, channels), 255, dtype=np.uint8)
    inp = httpclient.InferInput("pixels", list(pixels.shape), "UINT8")
    inp.set_data_from_numpy(pixels)
    res = client.infer(model, [inp])
    out["pixels"] = {"text": [t.decode("utf-8") for t in res.as_numpy("text")], "shape": list(res.as_numpy("confidence").shape)}

    # errors arrive as InferenceServerException with the server's message
    errors = {}
    try:
        bad = httpclient.InferInput("pixels", [1, height + 1, 40, channels], "UINT8")
        bad.set_data_from_numpy(np.zeros((1, height + 1, 40, channels), dtype=np.uint8))
        client.infer(model, [bad])
    except InferenceServerException as e:
        errors["shape"] = {"status": e.status(), "message": e.message()}
    try:
        client.get_model_metadata("no-such-model")
    except InferenceServerException as e:
        errors["model"] = {"status": e.status(), "message": e.message()}
    out["errors"] = errors
    client.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
