"""`python -m harness.methods`: several PEFT methods on one train split, compared in one comparison.

End to end on the embedded Gemma (LoRA and prompt tuning, 4 train examples, one step
each, 4 test items): one comparison against the base 0-shot with the base 1-shot and
every method as candidates, Holm across all of them (checked with statsmodels), each
method's tuning cost read back from its own tuning run and its break-even priced at
it. The per-candidate break-even itself is checked by hand on made-up runs.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from harness.compare import runs as rn
from harness.compare.comparison import compare_runs
from harness.compare.verdict import VerdictRules
from harness.methods import _for_method, main


def _run(run_id: str, costs: list[float], correct: list[int]) -> rn.RunData:
    rows = tuple(rn.ExampleRow(id=f"e{i}", prompt_tokens=10, output_tokens=1, latency_s=0.1, cost_usd=c,
                               error=None, scores={"accuracy": float(k)})
                 for i, (c, k) in enumerate(zip(costs, correct, strict=True)))  # fmt: skip
    return rn.RunData(run_id, run_id, {"harness.model": run_id}, {}, rows)


def test_break_even_per_candidate_uses_its_own_tuning_cost_else_the_config() -> None:
    n = 40
    base = _run("b" * 32, [0.010] * n, [1, 0] * (n // 2))
    cheap = _run("c" * 32, [0.002] * n, [1, 0] * (n // 2))  # saves 0.008 USD a request
    cheaper = _run("d" * 32, [0.006] * n, [1, 0] * (n // 2))  # saves 0.004
    comp = compare_runs(base, [cheap, cheaper], "accuracy", VerdictRules(), tuning_cost_usd=0.2,
                        tuning_costs={cheap.run_id: (0.5, "tuning run cccccccc")})
    own, fallback = comp.candidates
    assert (own.tuning_cost_usd, own.tuning_cost_source) == (0.5, "tuning run cccccccc")
    assert (fallback.tuning_cost_usd, fallback.tuning_cost_source) == (0.2, "config")
    assert own.break_even_requests == pytest.approx(0.5 / 0.008)  # 62.5 requests
    assert fallback.break_even_requests == pytest.approx(0.2 / 0.004)  # 50 requests
    assert "(tuning $0.5000, tuning run cccccccc)" in comp.headline()


def test_method_settings_reach_only_their_method() -> None:
    tune = ["max_train_examples=4", "lora.rank=4", "prefix.num_virtual_tokens=4", "+qlora.x=1"]
    assert _for_method(tune, "lora") == ["max_train_examples=4", "lora.rank=4"]
    assert _for_method(tune, "qlora") == ["max_train_examples=4", "lora.rank=4", "+qlora.x=1"]
    assert _for_method(tune, "prefix") == ["max_train_examples=4", "prefix.num_virtual_tokens=4"]


def test_qlora_reads_the_lora_node_and_lora_does_not_read_qlora() -> None:
    from harness.core.errors import ConfigError
    from harness.tune import methods
    from harness.tune.cli import load_config

    with pytest.raises(ConfigError, match=r"qlora\.quant_type does not apply to method=lora"):
        methods.check(load_config(["method=lora", "qlora.quant_type=fp4"]))
    try:  # QLoRA's adapter is a LoRA one: its rank is accepted (refused on a CPU only for want of CUDA)
        methods.check(load_config(["method=qlora", "lora.rank=4"]))
    except ConfigError as exc:
        assert "CUDA" in str(exc) and "does not apply" not in str(exc)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["methods=[lora,prefx]"], "method='prefx' is unknown (did you mean prefix?)"),
        (["methods=[]"], "methods is empty"),
        (["methods=[lora,lora]"], "a method is named twice"),
        (['tune=["name=x"]'], "harness.methods sets 'name' itself"),
        (["methods=[prefix]", 'tune=["prefix.rank=8"]'], "prefix.rank"),
    ],
)
def test_bad_methods_input_is_one_line_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    code = main([*args, f"results_dir={tmp_path}", f"tracking.uri=sqlite:///{tmp_path / 'm.db'}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("harness.methods: error: ") and message in err[0]
    assert not (tmp_path / "m.db").exists()  # refused before any work


@pytest.mark.slow
def test_methods_tune_and_compare_in_one_comparison(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient
    from statsmodels.stats.multitest import multipletests

    from harness.methods import load_config, run_methods

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cfg = load_config([
        "methods=[lora,prompt]", "task.limit=4", "task.shots=1",
        'tune=["max_train_examples=4","batch_size=4","lora.rank=4","lora.target_modules=[q_proj,v_proj]",'
        '"prompt.num_virtual_tokens=4"]',
        f"results_dir={tmp_path}", f"adapters_dir={tmp_path / 'adapters'}", f"tracking.uri={uri}",
        f"cache.path={tmp_path / 'cache.sqlite'}",
    ])
    out = run_methods(cfg, say=lambda _: None)

    assert [m.method for m in out.methods] == ["lora", "prompt"]
    assert all(not m.tuned.cached and m.tuned.n_examples == 4 for m in out.methods)
    assert out.few_shot is not None
    comp = out.versus_base.comparison
    assert comp.baseline.run_id == out.zero_shot.mlflow_run_id
    # one comparison: the base 1-shot and every method are its candidates
    assert [c.run.run_id for c in comp.candidates] == [
        out.few_shot.mlflow_run_id, *(m.run.mlflow_run_id for m in out.methods)]
    # Holm across every candidate (and metric): statsmodels' Holm on all raw p-values
    tests = [mc for c in comp.candidates for mc in c.metrics]
    _, holm, _, _ = multipletests([mc.test.p_value for mc in tests], method="holm")
    assert [mc.p_holm for mc in tests] == pytest.approx(list(holm))

    client = MlflowClient(uri)
    few, *tuned = comp.candidates
    assert (few.tuning_cost_usd, few.tuning_cost_source) == (0.0, "config")  # prompting costs no tuning
    for m, c in zip(out.methods, tuned, strict=True):
        tuning_run = client.get_run(str(m.tuned.run_id)).data
        assert tuning_run.tags["harness.tune_method"] == m.method
        assert c.tuning_cost_usd == float(tuning_run.tags["harness.tuning_cost_usd"]) > 0
        assert c.tuning_cost_source == f"tuning run {str(m.tuned.run_id)[:8]}"
        # the local model's requests cost the same priced or not: no saving, so the cost never pays back
        saving = comp.base_ops.cost_per_request - c.ops.cost_per_request
        assert math.isinf(c.break_even_requests) if saving <= 0 else c.break_even_requests > 0
    assert "merged" in tuned[0].run.tag("adapter") and "merged" not in tuned[1].run.tag("adapter")

    summary = json.loads((out.versus_base.out_dir / "comparison.json").read_text())
    assert [c["tuning_cost_usd"] for c in summary["candidates"]] == [c.tuning_cost_usd for c in comp.candidates]
    md = out.versus_base.markdown.read_text()
    assert all(f"tuning run {str(m.tuned.run_id)[:8]}" in md for m in out.methods)
    # the leakage audit of every method's variant is in the comparison
    assert out.versus_base.leakage is not None
    audited = {label for label, _ in out.versus_base.leakage.shares}
    assert all(c.run.label in audited for c in tuned)
    assert "## Leakage" in md

    # and against prompting: the methods only
    assert out.versus_prompting is not None
    vp = out.versus_prompting.comparison
    assert vp.baseline.run_id == out.few_shot.mlflow_run_id
    assert [c.run.run_id for c in vp.candidates] == [m.run.mlflow_run_id for m in out.methods]
