"""The `@hydra.main` job: convert the config once, then call the plain function."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from harness.config.load import setup, to_run_config
from harness.core.entry import EXIT_FAILED, EXIT_USAGE, fail
from harness.core.errors import RunFailed, UserError
from harness.core.paths import conf_dir

setup()


@hydra.main(config_path=str(conf_dir()), config_name="config", version_base=None)
def hydra_main(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from harness.run.runner import evaluate

    run_cfg = to_run_config(cfg)
    hc = HydraConfig.get()
    if hc.mode == RunMode.MULTIRUN and not run_cfg.sweep_id:
        run_cfg.sweep_id = str(hc.sweep.dir)
    try:
        evaluate(run_cfg)
    except UserError as exc:
        fail("harness", str(exc), EXIT_USAGE)
    except RunFailed as exc:
        fail("harness", str(exc), EXIT_FAILED)
