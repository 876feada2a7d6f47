# Reads an experiment back through comet_ml.API (the SDK's read API) and prints what it got as JSON.
import io
import json
import sys
import zipfile

import comet_ml
from comet_ml.api import Metric, Parameter

key = sys.argv[1]
comet_ml.login()  # checks the key against the tracker
api = comet_ml.API()
e = api.get_experiment("default", "sdk-e2e", key)
assets = e.get_asset_list()
data = next(a for a in assets if a["fileName"] == "data/asset.bin")
print(json.dumps({
    "workspaces": api.get_workspaces(),
    "default_workspace": api.get_default_workspace(),
    "projects": api.get_projects("default"),
    "experiments": [x.id for x in api.get_experiments("default", "sdk-e2e")],
    "name": e.get_name(),
    "loss": e.get_metrics("loss"),
    "all_metric_names": sorted({m["metricName"] for m in e.get_metrics()}),
    "params": {p["name"]: p["valueCurrent"] for p in e.get_parameters_summary()},
    "others": {o["name"]: o["valueCurrent"] for o in e.get_others_summary()},
    "tags": e.get_tags(),
    "graph": e.get_model_graph(),
    "git_patch": zipfile.ZipFile(io.BytesIO(e.get_git_patch())).read("git_diff.patch").decode(),
    "assets": sorted([a["fileName"], a["type"]] for a in assets),
    "asset_hex": e.get_asset(data["assetId"], return_type="binary").hex(),
    "query_hit": [x.id for x in api.query("default", "sdk-e2e", (Metric("loss") < 0.5) & (Parameter("optim") == "adam"))],
    "query_miss": [x.id for x in api.query("default", "sdk-e2e", Metric("loss") > 0.5)],
}))
