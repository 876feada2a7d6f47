# Logs one experiment with the official comet_ml SDK exactly as a Comet user would (no ocrops code involved) and prints
# its key as JSON. Configuration comes from COMET_API_KEY / COMET_URL_OVERRIDE only.
import json
import os
import sys

import comet_ml

work = sys.argv[1]
exp = comet_ml.start(project_name="sdk-e2e")
exp.set_name("sdk-run-1")
exp.log_parameters({"lr": 0.001, "inner_dim": 128, "optim": "adam"})
exp.log_parameter("batch", 32)
for i in range(5):
    exp.log_metric("loss", 1.0 / (i + 1), step=i, epoch=i // 2)
exp.log_metrics({"acc": 0.5, "cer": 0.25}, step=4, epoch=2)
exp.log_other("dataset", "vn-handwriting")
exp.add_tag("baseline")
exp.add_tags(["sdk", "e2e"])
exp.log_text("hello text", step=1)
exp.log_html("<b>hi</b>")
with open(os.path.join(work, "asset.bin"), "wb") as f:
    f.write(bytes(range(256)) * 4)
exp.log_asset(os.path.join(work, "asset.bin"), file_name="data/asset.bin")
os.makedirs(os.path.join(work, "model"), exist_ok=True)
with open(os.path.join(work, "model", "weights.bin"), "wb") as f:
    f.write(b"\x00\x01weights\xff")
exp.log_model("crnn", os.path.join(work, "model"))
exp.log_image(os.path.join(os.path.dirname(__file__), "pixel.png"), name="pixel.png", step=2)
exp.log_confusion_matrix(matrix=[[1, 2], [3, 4]], labels=["a", "b"])
exp.log_curve("pr", x=[0, 0.5, 1], y=[1, 0.5, 0])
exp.set_model_graph("CRNN(\n  (cnn): VGG()\n  (rnn): BiGRU(128)\n)")
print("stdout line from the training script")
key = exp.get_key()
exp.end()
print(json.dumps({"key": key}))
