# Logs an OfflineExperiment into a folder (an archive for `comet upload`) and prints its key as JSON.
import json
import os
import sys

import comet_ml

folder = sys.argv[1]
exp = comet_ml.OfflineExperiment(project_name="sdk-offline", offline_directory=folder)
exp.set_name("offline-run")
exp.log_parameters({"lr": 0.01, "layers": 3})
for i in range(3):
    exp.log_metric("loss", 2.0 - i * 0.5, step=i, epoch=0)
exp.log_other("where", "airplane")
exp.add_tags(["offline"])
path = os.path.join(folder, "..", "offline.bin")
with open(path, "wb") as f:
    f.write(b"offline-bytes-\x00\xff")
exp.log_asset(path, file_name="offline.bin")
key = exp.get_key()
exp.end()
print(json.dumps({"key": key}))
