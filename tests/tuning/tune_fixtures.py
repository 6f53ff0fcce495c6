"""Helpers shared by the tuning tests (a module of its own: `conftest` names clash across folders)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.tune.cli import load_config
from harness.tune.local import TuneConfig


@dataclass(frozen=True)
class Workspace:
    root: Path
    conf: Path  # holds model/<name>.yaml written by the tune; on Hydra's search path in tests
    adapters: Path
    tracking_uri: str

    def overrides(self) -> list[str]:
        """Run overrides that keep an evaluation's files inside the workspace."""
        return [
            f"hydra.searchpath=[file://{self.conf}]",
            f"tracking.uri={self.tracking_uri}",
            f"cache.path={self.root / 'cache.sqlite'}",
            f"results_dir={self.root / 'results'}",
            "progress=false",
        ]


def tiny_config(ws: Workspace, name: str = "tiny_lora", *extra: str) -> TuneConfig:
    cfg = load_config([
        f"name={name}", "max_train_examples=8", "batch_size=4", "lora.rank=4", "lora.alpha=8",
        "lora.target_modules=[q_proj,v_proj]", "learning_rate=1e-3",
        f"adapters_dir={ws.adapters}", f"conf_dir={ws.conf}", f"tracking.uri={ws.tracking_uri}", *extra,
    ])
    assert isinstance(cfg, TuneConfig)
    return cfg
