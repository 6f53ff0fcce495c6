"""One measurement in a fresh process: `worker.py TOOL WORKLOAD --batch B [--quick] --out FILE`.

Tools: floor (a plain transformers script), harness (harness.backends.hf.backend),
lmeval (lm-evaluation-harness HFLM), inspect (inspect-ai hf provider).
The same file runs under each tool's own venv; it prints nothing the parent
parses except the JSON written to --out. Model loading is timed apart from
the workload; one tiny warm-up call precedes the timed call for every tool.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workloads import ChoiceWorkload, GenWorkload, workload


def model_folder() -> str:
    from harness.backends.hf.embedded import resolve_embedded

    return str(resolve_embedded("gemma3-270m"))


def cut(text: str, stops: tuple[str, ...]) -> str:
    pos = [p for p in (text.find(s) for s in stops) if p >= 0]
    return text[: min(pos)] if pos else text


# ------------------------------------------------------------------ floor


class Floor:
    """What a competent user writes with transformers alone, on the harness's batches."""

    def __init__(self, batch: int) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder = model_folder()
        self.tok = AutoTokenizer.from_pretrained(folder)
        self.tok.padding_side = "left"
        self.model = AutoModelForCausalLM.from_pretrained(folder, dtype="float32").eval()
        self.batch = batch

    def _batches(self, prompts: tuple[str, ...]) -> list[list[int]]:
        lens = [len(ids) for ids in self.tok(list(prompts))["input_ids"]]
        order = sorted(range(len(prompts)), key=lambda i: lens[i])  # the harness's length order
        return [order[s : s + self.batch] for s in range(0, len(order), self.batch)]

    def generate(self, w: GenWorkload) -> list[str]:
        import torch
        from transformers import StoppingCriteria

        tok, stops = self.tok, w.stop

        class Stop(StoppingCriteria):  # decode only each row's last few generated tokens
            def __init__(self, prompt_len: int) -> None:
                self.prompt_len = prompt_len

            def __call__(self, input_ids: Any, scores: Any, **kw: Any) -> Any:
                tails = tok.batch_decode(input_ids[:, max(self.prompt_len, input_ids.shape[1] - 4) :])
                return torch.tensor([any(s in t for s in stops) for t in tails])

        out = [""] * len(w.prompts)
        for idx in self._batches(w.prompts):
            enc = self.tok([w.prompts[i] for i in idx], return_tensors="pt", padding=True)
            width = enc["input_ids"].shape[1]
            with torch.inference_mode():
                gen = self.model.generate(
                    **enc, max_new_tokens=w.max_new_tokens, do_sample=False, pad_token_id=tok.pad_token_id,
                    temperature=None, top_p=None, top_k=None, stopping_criteria=[Stop(width)] if stops else None,
                )
            for j, i in enumerate(idx):
                text = str(self.tok.decode(gen[j, enc["input_ids"].shape[1] :], skip_special_tokens=True))
                out[i] = cut(text, stops)
        return out

    def choices(self, w: ChoiceWorkload) -> list[list[float]]:
        import torch

        ids = [self.tok(c, add_special_tokens=False)["input_ids"][0] for c in w.choices]  # one token each
        out: list[list[float]] = [[] for _ in w.prompts]
        for idx in self._batches(w.prompts):
            enc = self.tok([w.prompts[i] for i in idx], return_tensors="pt", padding=True)
            pos = (enc["attention_mask"].cumsum(-1) - 1).clamp(min=0)
            with torch.inference_mode():
                logits = self.model(**enc, position_ids=pos, logits_to_keep=1).logits[:, -1].float()
                logp = torch.log_softmax(logits, -1)
            for j, i in enumerate(idx):
                out[i] = [float(logp[j, t]) for t in ids]
        return out


# ---------------------------------------------------------------- harness


class Harness:
    def __init__(self, batch: int) -> None:
        from harness.backends.hf.backend import HFBackend
        from harness.config.schema import HFModelConfig

        cfg = HFModelConfig(name="gemma3_270m", path="embedded:gemma3-270m", chat_template=False, batch_size=batch)
        self.b = HFBackend(cfg)

    def generate(self, w: GenWorkload) -> list[str]:
        from harness.core.records import GenerationParams, Request

        params = GenerationParams(max_new_tokens=w.max_new_tokens, stop=w.stop)
        resps = self.b.generate([Request(str(i), p, params) for i, p in enumerate(w.prompts)])
        return [r.texts[0] for r in resps]

    def choices(self, w: ChoiceWorkload) -> list[list[float]]:
        from harness.core.records import Request, RequestKind

        reqs = [Request(str(i), p, kind=RequestKind.CHOICES, choices=w.choices) for i, p in enumerate(w.prompts)]
        return [list(r.choice_logprobs or ()) for r in self.b.generate(reqs)]


# ----------------------------------------------------------------- lm-eval


class LmEval:
    def __init__(self, batch: int) -> None:
        from lm_eval.models.huggingface import HFLM

        self.lm = HFLM(pretrained=model_folder(), dtype="float32", device="cpu", batch_size=batch if batch else "auto")

    def generate(self, w: GenWorkload) -> list[str]:
        from lm_eval.api.instance import Instance

        # lm-eval appends the EOS string to `until` itself; an empty list means "no stop string"
        kw: dict[str, Any] = {"until": list(w.stop), "max_gen_toks": w.max_new_tokens, "do_sample": False}
        reqs = [Instance("generate_until", {}, (p, dict(kw)), i) for i, p in enumerate(w.prompts)]
        return list(self.lm.generate_until(reqs, disable_tqdm=True))

    def choices(self, w: ChoiceWorkload) -> list[list[float]]:
        from lm_eval.api.instance import Instance

        reqs = [Instance("loglikelihood", {}, (p, c), i) for i, p in enumerate(w.prompts) for c in w.choices]
        res = self.lm.loglikelihood(reqs, disable_tqdm=True)
        k = len(w.choices)
        return [[float(ll) for ll, _ in res[i * k : (i + 1) * k]] for i in range(len(w.prompts))]


# -------------------------------------------------------------- inspect-ai


class Inspect:
    def __init__(self, batch: int) -> None:
        from inspect_ai.model import get_model

        # no raw-completion mode: use_chat_template=False renders "user: <prompt>\n" (closest to plain text)
        self.model = get_model("hf/gemma3-270m", model_path=model_folder(), device="cpu", do_sample=False,
                               use_chat_template=False, dtype="float32")
        self.batch = batch or 32

    def generate(self, w: GenWorkload) -> list[str]:
        import asyncio

        from inspect_ai.model import GenerateConfig

        cfg = GenerateConfig(max_tokens=w.max_new_tokens, stop_seqs=list(w.stop) or None,
                             max_connections=self.batch)  # inspect's hf batch size is max_connections

        async def run() -> list[str]:
            outs = await asyncio.gather(*(self.model.generate(p, config=cfg) for p in w.prompts))
            return [cut(o.completion, w.stop) for o in outs]

        return asyncio.run(run())

    def choices(self, w: ChoiceWorkload) -> list[list[float]]:
        raise NotImplementedError("inspect-ai has no log-likelihood API")


TOOLS = {"floor": Floor, "harness": Harness, "lmeval": LmEval, "inspect": Inspect}


def _weights_mb(tool: Any) -> float | None:
    model = getattr(getattr(tool, "b", tool), "model", None)  # Harness keeps its backend in .b
    params = getattr(model, "parameters", None)
    return sum(p.numel() * p.element_size() for p in params()) / 2**20 if params else None


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mb(field: str) -> float:
    line = next(ln for ln in Path("/proc/self/status").read_text().splitlines() if ln.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def run_one(tool: Any, w: GenWorkload | ChoiceWorkload) -> tuple[Any, float, dict[str, float]]:
    """(outputs, wall s, memory: resident before the timed call and the call's own peak)."""
    if isinstance(w, GenWorkload):  # warm-up: one short call, outside the timing (also touches every weight)
        tool.generate(GenWorkload("warm", w.prompts[:1], 2, ()))
    else:
        tool.choices(ChoiceWorkload("warm", w.prompts[:1], w.choices))
    # "5" resets the kernel's peak-RSS mark (VmHWM), so the peak below is this call's own
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_mb("VmRSS")
    t1 = time.perf_counter()
    outputs: Any = tool.generate(w) if isinstance(w, GenWorkload) else tool.choices(w)
    wall = time.perf_counter() - t1
    return outputs, wall, {"rss_before_mb": before, "peak_mb": _status_mb("VmHWM")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tool", choices=[*sorted(TOOLS), "pair"], help="pair: floor and harness alternating in one process")
    ap.add_argument("workloads", help="comma-separated: W1,W1b,W2")
    ap.add_argument("--batch", type=int, default=8, help="0: the tool's automatic batch size")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=1, help="timed runs per workload; the fastest is reported")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    import torch

    t0 = time.perf_counter()
    names = ["floor", "harness"] if a.tool == "pair" else [a.tool]
    tools = {n: TOOLS[n](a.batch) for n in names}
    load_s = time.perf_counter() - t0
    rss_loaded = rss_mb()
    runs = []
    for name in a.workloads.split(","):
        w = workload(name, a.quick)
        walls: dict[str, list[float]] = {t: [] for t in tools}
        outs: dict[str, Any] = {}
        mem: dict[str, dict[str, float]] = {}
        for rep in range(a.repeats):
            # ABBA: alternate who goes first, so load from other processes hits both tools alike
            for tname in list(tools) if rep % 2 == 0 else list(tools)[::-1]:
                try:
                    outputs, wall, memory = run_one(tools[tname], w)
                except NotImplementedError as exc:
                    outs[tname] = exc
                    continue
                walls[tname].append(wall)
                outs.setdefault(tname, outputs)
                mem.setdefault(tname, memory)
        for tname in tools:
            if isinstance(outs.get(tname), NotImplementedError):
                runs.append({"tool": tname, "workload": name, "unsupported": str(outs[tname])})
                continue
            # the minimum is the run least disturbed by other processes on a shared machine
            runs.append({"tool": tname, "workload": name, "n": len(w.prompts), "wall_s": min(walls[tname]),
                         "walls": walls[tname], "outputs": outs[tname], "loadavg": os.getloadavg()[0],
                         **mem.get(tname, {})})
    result = {
        "tool": a.tool, "batch": a.batch, "quick": a.quick, "load_s": load_s, "rss_after_load_mb": rss_loaded,
        "peak_rss_mb": rss_mb(), "torch_threads": torch.get_num_threads(), "runs": runs,
        "weights_mb": {n: _weights_mb(t) for n, t in tools.items()},
    }
    Path(a.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
