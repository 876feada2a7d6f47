# The script `comet optimize -j N optimize_cli.py <config>` starts N times: each process joins the sweep named by
# COMET_OPTIMIZER_ID (set by `comet optimize`) and runs trials until the sweep is done.
import comet_ml

opt = comet_ml.Optimizer(verbose=0)
for exp in opt.get_experiments(project_name="sdk-optimize-cli"):
    inner_dim = exp.get_parameter("inner_dim")
    exp.log_metric("val_loss", abs(inner_dim - 128) / 128, step=0)
    exp.end()
