"""`model.endpoint=completions`: plain generation and echo+logprobs choice scoring (issue 16, item 10).

Through the real openai SDK against the fake server speaking `/v1/completions`;
the log-probabilities are the test's own numbers, so every expected sum is
added up by hand below.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.backends import openai_compat  # noqa: F401 - registers the "openai" backend
from harness.backends.base import BACKENDS, Capability
from harness.backends.openai_completions import continuation_logprob
from harness.config.schema import OpenAIModelConfig
from harness.core.errors import ConfigError
from harness.core.records import ErrorKind, GenerationParams, Request, RequestKind
from harness.run.runner import evaluate
from tests.fakes.fixtures import compose_model
from tests.fakes.openai_server import FakeOpenAI
from tests.helpers import run_config

LABELS = ("positive", "negative", "neutral")


def config(fake: FakeOpenAI, **kw: object) -> OpenAIModelConfig:
    cfg = compose_model("openai_compat", base_url=fake.url, model_id="base-lm", endpoint="completions")
    assert isinstance(cfg, OpenAIModelConfig)
    return dataclasses.replace(cfg, **kw)  # type: ignore[arg-type]


def choices_request(prompt: str = "Review: fine\nSentiment:", choices: tuple[str, ...] = ()) -> Request:
    return Request("r1", prompt, kind=RequestKind.CHOICES, choices=choices or tuple(f" {c}" for c in LABELS))


def test_plain_generation_goes_to_v1_completions(openai_fake: FakeOpenAI) -> None:
    backend = BACKENDS.get("openai").load(config(openai_fake))
    params = GenerationParams(max_new_tokens=3, temperature=0.5, stop=("\n",), seed=7, n=2)
    [r] = backend.generate([Request("a", "Once upon", params=params, system="A story.")])
    assert r.ok and r.texts == ("echo: A story.", "echo: A story.")  # 3 of the echo's 5 words
    assert r.finish_reason == "length" and r.prompt_tokens == 4
    post = openai_fake.log[0]
    assert post.path == "v1/completions" and "messages" not in post.body
    assert post.body["prompt"] == "A story.\n\nOnce upon"  # the system text as a paragraph, as the HF backend does
    assert {k: post.body[k] for k in ("max_tokens", "temperature", "stop", "seed", "n")} == {
        "max_tokens": 3, "temperature": 0.5, "stop": ["\n"], "seed": 7, "n": 2}
    assert backend.identity.revision.endswith(":completions")


def test_choices_are_scored_from_echoed_prompt_logprobs(openai_fake: FakeOpenAI) -> None:
    openai_fake.token_logprobs = {" positive": -0.25, " negative": -1.5, " very": -2.0, " good": -0.5}
    backend = BACKENDS.get("openai").load(config(openai_fake))
    req = choices_request(choices=(" positive", " negative", " neutral", " very good"))
    [r] = backend.generate([req])
    # by hand: one token each for the labels (neutral unlisted: -1.0); " very good" is two tokens, -2.0 + -0.5
    assert r.ok and r.choice_logprobs == (-0.25, -1.5, -1.0, -2.5)
    assert r.texts == ("positive",) and r.finish_reason == "choices"
    body = openai_fake.log[0].body
    assert body["prompt"] == [req.prompt + c for c in req.choices]
    assert (body["echo"], body["logprobs"], body["max_tokens"]) == (True, 1, 1)


def test_a_token_straddling_the_boundary_counts_for_the_choice() -> None:
    # "Sentiment:" + "positive" tokenized as "Sentiment" | ":pos" | "itive", then one generated token
    lp = SimpleNamespace(text_offset=[0, 9, 13, 18], token_logprobs=[None, -0.75, -0.125, -9.0])
    assert continuation_logprob(lp, context_len=10, prompt_len=18) == -0.875  # -0.75 + -0.125, not the generated
    assert continuation_logprob(SimpleNamespace(text_offset=None, token_logprobs=None), 10, 18) is None


def test_a_server_without_prompt_logprobs_is_a_fatal_error(openai_fake: FakeOpenAI) -> None:
    openai_fake.tokenize = lambda text: [(text, 0, None)]  # one token for the whole prompt, without a number
    [r] = BACKENDS.get("openai").load(config(openai_fake)).generate([choices_request()])
    assert r.error is not None and r.error.kind is ErrorKind.FATAL and "echo" in r.error.message


def test_the_chat_endpoint_declares_no_choices_and_refuses_them(openai_fake: FakeOpenAI) -> None:
    plugin = BACKENDS.get("openai")
    assert Capability.CHOICES not in plugin.capabilities_for(config(openai_fake, endpoint="chat"))
    assert Capability.CHOICES in plugin.capabilities_for(config(openai_fake))
    [r] = plugin.load(config(openai_fake, endpoint="chat")).generate([choices_request()])
    assert r.error is not None and "model.endpoint=completions" in r.error.message and openai_fake.log == []
    with pytest.raises(ConfigError, match=r"model\.endpoint must be one of chat, completions"):
        plugin.identify(config(openai_fake, endpoint="legacy"))


def _loglikelihood_run(tmp: Path, fake: FakeOpenAI, endpoint: str) -> object:
    rows = [("a", "great", "positive"), ("b", "awful", "negative"), ("c", "fine", "neutral"), ("d", "ok", "positive")]
    data = tmp / "d.jsonl"
    data.write_text("".join(json.dumps({"id": i, "text": t, "label": y}) + "\n" for i, t, y in rows))
    cfg = run_config(tmp, f"task.data.path={data}", "task.data.train_path=null", "task.mode=loglikelihood",
                     "model=openai_compat", f"model.base_url={fake.url}", "model.model_id=base-lm",
                     f"model.endpoint={endpoint}", "tracking.enabled=false")
    return evaluate(cfg, quiet=True)


def test_loglikelihood_classification_end_to_end(openai_fake: FakeOpenAI, tmp_path: Path) -> None:
    openai_fake.token_logprobs = {" positive": -0.1, " negative": -2.0, " neutral": -3.0}
    result = _loglikelihood_run(tmp_path, openai_fake, "completions")
    assert result.metrics["accuracy"].value == pytest.approx(2 / 4)  # "positive" always wins; 2 of 4 are positive
    assert len(openai_fake.log) == 4 and all(p.path == "v1/completions" for p in openai_fake.log)


def test_loglikelihood_on_the_chat_endpoint_fails_before_any_request(openai_fake: FakeOpenAI, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot do 'choices'"):
        _loglikelihood_run(tmp_path, openai_fake, "chat")
    assert openai_fake.log == []
