"""`python -m harness.tune ...`: compose conf/tune.yaml, call `harness.tune.local.tune`.

Config mistakes are found by composing every cell before Hydra starts a job,
so they print one line and exit 2 without loading a model.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from harness.core.entry import run_entry

HELP = """usage: python -m harness.tune [-m] [method=lora|qlora|ia3|prefix|prompt] [task=NAME] [model=BASE]
                              [name=VARIANT] [key=value ...]

Tune an HF base model with a PEFT method on a task's train split; writes results/adapters/<name>/ and
conf/model/<name>.yaml, then `python -m harness task=NAME model=<name>` evaluates it.

  lora.rank=8 lora.alpha=16 lora.target_modules=[q_proj,v_proj]   (method=lora, qlora)
  qlora.quant_type=nf4 (CUDA only)  ia3.target_modules=[k_proj,v_proj,down_proj]
  prefix.num_virtual_tokens=16  prompt.num_virtual_tokens=16  epochs=1 learning_rate=null (method's default)
  Several methods on one split: python -m harness.tune -m method=lora,ia3,prompt task=NAME
  batch_size=8 max_train_examples=360 seed=1234 hourly_rate_usd=0.10 force=true
Docs: docs/models.md ("Local LoRA tuning"). Show the composed config: python -m harness.tune --cfg job
"""


def load_config(overrides: Sequence[str]) -> object:
    """Compose and validate conf/tune.yaml with overrides into a TuneConfig."""
    from harness.config.load import compose_object
    from harness.tune.local import TuneConfig, register

    register()
    return compose_object(overrides, "tune", TuneConfig)


def preflight(argv: Sequence[str]) -> None:
    from harness.config.overrides import expand_sweep, split_args

    _, overrides = split_args(argv)
    for cell in expand_sweep(overrides):
        load_config(cell)


def _body(argv: list[str]) -> int:
    from harness.config.load import user_search_path

    preflight(argv)
    with user_search_path(argv):  # $HARNESS_CONFIG_PATH: the user's task/model YAMLs
        _hydra_main()
    return 0


def main() -> None:
    sys.exit(run_entry("harness.tune", HELP, _body))


def _hydra_main() -> None:
    import hydra
    from omegaconf import DictConfig, OmegaConf

    from harness.core.entry import EXIT_USAGE, fail
    from harness.core.errors import UserError
    from harness.core.paths import conf_dir
    from harness.tune.local import TuneConfig, register, tune

    register()

    @hydra.main(config_path=str(conf_dir()), config_name="tune", version_base=None)
    def run(cfg: DictConfig) -> None:
        obj = OmegaConf.to_object(cfg)
        assert isinstance(obj, TuneConfig)  # preflight validated it
        try:
            result = tune(obj)
        except UserError as exc:
            fail("harness.tune", str(exc), EXIT_USAGE)
        if result.cached:
            print(f"reused {result.adapter_dir} (identical inputs, key {result.key}); config {result.config_path}")
        else:
            print(
                f"tuned {result.name}: {result.n_examples} examples in {result.train_s:.1f}s "
                f"({result.examples_per_s:.2f} examples/s, wall {result.wall_s:.1f}s, ${result.cost_usd:.4f}), "
                f"final loss {result.final_loss:.4f}, {result.trainable_params:,} trainable parameters"
            )
            print(f"adapter {result.adapter_dir}; config {result.config_path}")
        print(f"evaluate: python -m harness task={obj.task.name} model={result.name}")
        print(f"compare:  python -m harness.compare task={obj.task.name} baseline={obj.model.name} "
              f"candidates=[{result.name}] tuning_cost_usd={result.cost_usd:.4f} primary_metric=...")

    run()
