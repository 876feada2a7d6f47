# Continues an experiment with ExistingExperiment, then writes to it through the read API's APIExperiment.
import json
import sys

import comet_ml

key = sys.argv[1]
exp = comet_ml.ExistingExperiment(experiment_key=key)
exp.log_metric("loss", 0.125, step=5, epoch=3)
exp.log_parameter("resumed", True)
exp.end()

api_exp = comet_ml.API().get_experiment_by_key(key)
api_exp.log_metric("api_metric", 7.5, step=9)
api_exp.log_parameter("api_param", "from-api")
api_exp.log_other("api_other", "x")
api_exp.add_tags(["api-tag"])
print(json.dumps({"key": key}))
