# Runs comet_ml.Optimizer trials: `optimize.py new <maxCombo>` creates the sweep and prints its id; `optimize.py <id>`
# joins it and runs trials until the sweep is done, printing each trial's key, parameters and objective.
import json
import sys

import comet_ml

if sys.argv[1] == "new":
    config = {
        "algorithm": "bayes",
        "spec": {"maxCombo": int(sys.argv[2]), "objective": "minimize", "metric": "val_loss", "seed": 7},
        "parameters": {"inner_dim": {"type": "discrete", "values": [32, 64, 128, 256]}},
        "trials": 1,
    }
    print(json.dumps({"id": comet_ml.Optimizer(config, verbose=0).get_id()}))
    sys.exit(0)

opt = comet_ml.Optimizer(sys.argv[1], verbose=0)
trials = []
for exp in opt.get_experiments(project_name="sdk-opt"):
    inner_dim = exp.get_parameter("inner_dim")
    values = [abs(inner_dim - 128) / 128 + 0.5, abs(inner_dim - 128) / 128 + 0.1]
    for step, v in enumerate(values):
        exp.log_metric("val_loss", v, step=step)
    trials.append({"key": exp.get_key(), "pid": exp.optimizer["pid"], "trial": exp.optimizer["trial"],
                   "inner_dim": inner_dim, "score": min(values)})
    exp.end()
print(json.dumps({"trials": trials}))
