"""A task, a scorer and a backend from outside the repository (issue 16, item 9).

The user's folder holds a task YAML, its template (in tasks/ beside the
config folder), a CSV with numeric labels (task.label_map names them) and a
model YAML; a tiny package outside the repository, on PYTHONPATH with a
`.dist-info` whose entry_points.txt names its modules, provides the model's
config schema (harness.configs), a backend (harness.backends) and a scorer
(harness.scorers). Nothing is installed and nothing in the repository changes.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from harness.core.errors import DataError
from harness.data.samples import load_task_data
from tests.helpers import ROOT, run_cli, run_config

ROWS = [  # text, raw label; the keyword backend answers "positive" when "good" is in the prompt
    ("good coffee", 1),  # positive, right
    ("bad tea", 0),  # negative, right
    ("good but cold", 0),  # positive, wrong
    ("awful service", 0),  # negative, right
    ("good value", 1),  # positive, right
    ("terrible", 1),  # negative, wrong
]
ACCURACY = 4 / 6  # counted by hand from the comments above
SAYS_POSITIVE = 3 / 6  # three answers are "positive"

PLUGIN = {
    "harness_ext_demo/__init__.py": '"""A plugin package outside the repository."""\n',
    "harness_ext_demo/configs.py": """
        from dataclasses import dataclass

        from hydra.core.config_store import ConfigStore

        from harness.config.schema import ModelConfig


        @dataclass
        class KeywordModelConfig(ModelConfig):
            backend: str = "keyword"
            keyword: str = "good"


        ConfigStore.instance().store(group="schema/model", name="keyword", node=KeywordModelConfig)
        """,
    "harness_ext_demo/backend.py": """
        from harness.backends.base import BACKENDS, BackendIdentity, BackendPlugin
        from harness.core.records import Response


        class KeywordBackend:
            capabilities = frozenset()

            def __init__(self, cfg):
                self.identity = identify(cfg)
                self.keyword = cfg.keyword

            def generate(self, requests):
                return [Response(texts=("positive" if self.keyword in r.prompt else "negative",)) for r in requests]

            def close(self):
                pass


        def identify(cfg):
            return BackendIdentity(backend="keyword", model=cfg.name, revision=cfg.keyword)


        BACKENDS.register("keyword")(
            BackendPlugin(identify=identify, load=KeywordBackend, capabilities=frozenset())
        )
        """,
    "harness_ext_demo/scorers.py": """
        from harness.core.records import Score
        from harness.scorers.base import SCORERS, per_example


        @per_example
        def says_positive(sample, response, task):
            return Score({"says_positive": float(response.text.strip() == "positive")})


        SCORERS.register("says_positive")(says_positive)
        """,
    "harness_ext_demo-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: harness-ext-demo\nVersion: 0.1\n",
    "harness_ext_demo-0.1.dist-info/entry_points.txt": """
        [harness.configs]
        keyword = harness_ext_demo.configs

        [harness.backends]
        keyword = harness_ext_demo.backend

        [harness.scorers]
        says_positive = harness_ext_demo.scorers
        """,
}

USER_FILES = {
    "conf/task/sentiment01.yaml": """
        defaults:
          - /schema/task/classification@_here_
          - _self_

        name: sentiment01
        data:
          path: reviews.csv        # relative to the working directory
          train_path: null
          input_field: text
          target_field: label
        labels: [negative, positive]
        label_map: {0: negative, 1: positive}
        generation:
          max_new_tokens: 2
        scorers: [label_match, says_positive]
        primary_metric: accuracy
        """,
    "conf/model/keyword_bot.yaml": """
        defaults:
          - /schema/model/keyword@_here_
          - _self_

        name: keyword_bot
        keyword: good
        """,
    "tasks/sentiment01/prompt.jinja": "Review: {{ sample.input }}\nSentiment:\n",
    "reviews.csv": "text,label\n" + "".join(f"{t},{y}\n" for t, y in ROWS),
}


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def test_user_task_scorer_and_backend_run_from_outside_the_repository(tmp_path: Path) -> None:
    user, plugin = tmp_path / "myevals", tmp_path / "plugin"
    write_tree(user, USER_FILES)
    write_tree(plugin, PLUGIN)
    env = {"HARNESS_CONFIG_PATH": str(user / "conf"),
           "PYTHONPATH": os.pathsep.join([str(plugin), str(ROOT)])}

    helped = run_cli(["--help"], cwd=user, env=env, timeout=120)
    assert helped.returncode == 0
    assert "sentiment01" in helped.stdout and "keyword_bot" in helped.stdout

    proc = run_cli(["task=sentiment01", "model=keyword_bot", "progress=false", "bootstrap_resamples=50",
                    f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}"], cwd=user, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [metrics_file] = (user / "results" / "sentiment01" / "keyword_bot").glob("*/metrics.json")
    metrics = json.loads(metrics_file.read_text())
    assert metrics["n_examples"] == len(ROWS)
    assert metrics["accuracy"] == pytest.approx(ACCURACY)
    assert metrics["says_positive"] == pytest.approx(SAYS_POSITIVE)
    rows = [json.loads(x) for x in (metrics_file.parent / "predictions.jsonl").read_text().splitlines()]
    assert [r["reference"] for r in rows] == ["positive", "negative", "negative", "negative", "positive", "positive"]


def test_a_broken_plugin_is_one_line(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    write_tree(plugin, {**PLUGIN, "harness_ext_demo/scorers.py": "raise ImportError('needs numpyy')\n"})
    proc = run_cli(["model=replay", "model.path=x.jsonl"], cwd=tmp_path,
                   env={"PYTHONPATH": os.pathsep.join([str(plugin), str(ROOT)])}, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    [line] = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "says_positive = harness_ext_demo.scorers" in line and "harness.scorers" in line and "numpyy" in line


def test_unknown_user_config_folder_is_one_line(tmp_path: Path) -> None:
    proc = run_cli(["task.limit=1"], cwd=tmp_path, env={"HARNESS_CONFIG_PATH": str(tmp_path / "nope")}, timeout=120)
    assert proc.returncode == 2 and "HARNESS_CONFIG_PATH" in proc.stderr and "nope" in proc.stderr


@pytest.mark.parametrize(
    ("data", "name"),
    [('{"id": "a", "text": "x", "label": 0}\n{"id": "b", "text": "y", "label": 1}\n', "d.jsonl"),
     ("id,text,label\na,x,0\nb,y,1\n", "d.csv")],
)
def test_label_map_names_numeric_labels_in_json_and_csv(tmp_path: Path, data: str, name: str) -> None:
    (tmp_path / name).write_text(data)
    cfg = run_config(tmp_path, f"task.data.path={tmp_path / name}", "task.data.train_path=null",
                     "task.data.input_field=text", "task.data.id_field=id", "task.labels=[negative,positive]",
                     "++task.label_map={0: negative, 1: positive}")
    data_ = load_task_data(cfg.task)
    assert [s.references for s in data_.test] == [("negative",), ("positive",)]


def test_label_map_missing_value_names_the_row(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("text,label\nx,0\ny,2\n")
    cfg = run_config(tmp_path, f"task.data.path={tmp_path / 'd.csv'}", "task.data.train_path=null",
                     "task.data.input_field=text", "task.data.id_field=null",
                     "++task.label_map={0: negative, 1: positive}")
    with pytest.raises(DataError, match=r"row 2: label '2' is not a key of task.label_map \(keys: 0, 1\)"):
        load_task_data(cfg.task)


def test_unknown_task_names_the_user_folders_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.config.load import compose_run
    from harness.core.errors import ConfigError

    write_tree(tmp_path, {"conf/task/sentiment01.yaml": USER_FILES["conf/task/sentiment01.yaml"]})
    monkeypatch.setenv("HARNESS_CONFIG_PATH", str(tmp_path / "conf"))
    with pytest.raises(ConfigError) as err:
        compose_run(["task=sentiment1"])
    assert str(tmp_path / "conf" / "task") in str(err.value) and "did you mean: sentiment01" in str(err.value)
    assert compose_run(["task=sentiment01"]).task.label_map == {0: "negative", 1: "positive"}


def test_hydra_searchpath_on_the_command_line_passes_the_preflight(tmp_path: Path) -> None:
    from harness.run.cli import preflight

    write_tree(tmp_path, {"conf/task/sentiment01.yaml": USER_FILES["conf/task/sentiment01.yaml"]})
    argv = [f"hydra.searchpath=[file://{tmp_path / 'conf'}]", "task=sentiment01", "task.scorers=[label_match]",
            "model=replay", "model.path=x"]
    assert preflight(argv) == 1  # before: "unknown task 'sentiment01'" (the preflight dropped hydra.* arguments)
