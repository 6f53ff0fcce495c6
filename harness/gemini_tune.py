"""`python -m harness.gemini_tune`: export a task's train split, or tune a Gemini model on Vertex AI.

    python -m harness.gemini_tune export --task classification --out train.jsonl
    python -m harness.gemini_tune tune --model gemini_flash --name flash_sft \\
        --training-uri gs://bucket/train.jsonl --epochs 3 --lr-multiplier 1.0 --adapter-size 4 \\
        --set api=vertex --set project=my-proj --set location=us-central1
"""

from __future__ import annotations

import argparse
import sys

from omegaconf import OmegaConf

from harness.config.load import compose
from harness.config.schema import GeminiModelConfig
from harness.errors import ConfigError, UserError
from harness.gemini_tuning import TuningSpec, export_task_train, tune
from harness.paths import conf_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.gemini_tune", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("export", help="write a task's train split as Gemini tuning JSONL")
    ex.add_argument("--task", required=True)
    ex.add_argument("--out", required=True)
    tu = sub.add_parser("tune", help="run a Vertex AI tuning job and write conf/model/<name>.yaml")
    tu.add_argument("--model", required=True, help="base model config name, e.g. gemini_flash")
    tu.add_argument("--name", required=True)
    tu.add_argument("--training-uri", required=True)
    tu.add_argument("--epochs", type=int)
    tu.add_argument("--lr-multiplier", type=float)
    tu.add_argument("--adapter-size", type=int)
    tu.add_argument("--display-name")
    tu.add_argument("--set", action="append", default=[], help="model override key=value (repeatable)")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "export":
            task = OmegaConf.to_object(compose([f"task={args.task}", "model=gemini_flash"]).task)
            n = export_task_train(task, args.out)  # type: ignore[arg-type]
            print(f"wrote {n} examples to {args.out}")
            return 0
        model = OmegaConf.to_object(compose([f"model={args.model}", *(f"model.{kv}" for kv in args.set)]).model)
        if not isinstance(model, GeminiModelConfig):
            raise ConfigError(f"model {args.model} is not a Gemini model config")
        spec = TuningSpec(
            name=args.name,
            training_uri=args.training_uri,
            epochs=args.epochs,
            learning_rate_multiplier=args.lr_multiplier,
            adapter_size=args.adapter_size,
            display_name=args.display_name,
        )
        print(f"wrote {tune(model, spec, conf_dir())}")
        return 0
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
