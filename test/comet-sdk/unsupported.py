# Calls an SDK read this tracker does not implement (the script's code) twice and prints how the SDK reported it.
import json
import sys

import comet_ml

e = comet_ml.API().get_experiment_by_key(sys.argv[1])
errors = []
for _ in range(2):
    try:
        e.get_code()
        errors.append(None)
    except Exception as err:  # the SDK raises CometRestApiException for a non-2xx answer
        errors.append(str(err))
print(json.dumps({"errors": errors}))
