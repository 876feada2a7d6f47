"""Drives the ocrops tracker's model registry with the official comet_ml SDK's own registry calls.

Usage: python comet_registry.py <server url> <api key> <experiment key> <download dir>
Prints one JSON object with what the SDK read back. The SDK's newer register path needs a backend version
endpoint; `register_model` is the path it takes on backends without it.
"""
import json
import os
import sys

url, key, exp, dest = sys.argv[1:5]
os.environ["COMET_URL_OVERRIDE"] = url + "/clientlib/"
import comet_ml  # noqa: E402

api = comet_ml.API(api_key=key)
c = api._client
out = {"experimentModels": c.get_experiment_models(exp)}
c.register_model(exp, "crnn", "1.0.0", "default", "sdk-model", False, "made by the SDK", "first", ["staging"])
c.register_model(exp, "crnn", "1.1.0", "default", "sdk-model", None, None, "second", None)
c.add_registry_model_version_stage("default", "sdk-model", "1.1.0", "production")
c.update_registry_model_version("default", "sdk-model", "1.0.0", comment="updated")
out["names"] = api.get_registry_model_names("default")
out["count"] = c.get_registry_model_count("default")
out["versions"] = c.get_registry_model_versions("default", "sdk-model")
out["details"] = c.get_registry_model_details("default", "sdk-model")
api.download_registry_model("default", "sdk-model", version="1.1.0", output_path=dest, expand=True)
out["downloaded"] = sorted(os.listdir(dest))
print(json.dumps(out))
