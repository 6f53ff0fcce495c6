"""Every command in a shell block of README.md and docs/*.md runs, through the real entry point.

The extractor is generic: each ```bash / ```sh / ```shell / ```console block of every doc is
read (backslash continuations joined, `# comments` dropped), and each command runs as a
subprocess with the same argv, in document order (README first, then docs/ by name), in one
sandbox: a temporary working directory (so `results/` and `results/cache.sqlite` land there)
and a temporary MLflow store (`MLFLOW_TRACKING_URI`). Nothing is written to the repository.

A command runs exactly as documented unless a RULE below matches it; each rule says why it
differs. The differences are of four kinds only: fewer examples where the doc's command would
take minutes (`task.limit=2`, tiny LoRA settings), the replay model (recorded references)
where the doc's command would load Gemma again, sandbox paths for what would be written into
the repository (`conf/model/*.yaml`, adapters), and the local fake Gemini server where the doc
needs an API key. Commands of other programs (`./dev`, `gsutil`, `mlflow ui`, `source`) are
skipped by pattern with the reason, and a paid cloud job is skipped with the test that covers it.

A documented command that is neither a harness command nor matched by a rule fails the fast
test, so a new doc's command is either run or skipped with a written reason, never ignored.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.core.paths import ROOT, shared_data_dir

SHELL_FENCE = re.compile(r"^```(?:bash|sh|shell|console)[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
BIN = Path(sys.executable).parent  # the venv: `python` and the `harness` console script

# Placeholders the docs write for "your run": replaced by runs the sandbox made before.
PLACEHOLDERS = {
    "candidates='[<run id | model>, ...]'": "candidates='[my_lora]'",
    "<run id | model name>": "my_lora",
    "<run id | model>": "gemma3_270m",
}

TINY_LORA = ("max_train_examples=2", "batch_size=2", "lora.rank=2", "lora.target_modules=[q_proj]")
REPLAY = ("model=replay", "model.path={replay}")  # {replay}: the references of the command's task(s)


@dataclass(frozen=True)
class Rule:
    """How a documented command that matches `pattern` (re.search) runs here, and why."""

    pattern: str
    why: str
    skip: bool = False
    set: tuple[str, ...] = ()  # key=value: replaces the argv's value of that key, or is appended
    before: tuple[str, ...] = ()  # commands run first (state the doc assumes, e.g. runs to compare)
    files: tuple[str, ...] = ()  # files the doc assumes in the working directory: my.tsv, outs.jsonl
    env: tuple[tuple[str, str], ...] = ()
    copies: tuple[tuple[str, str], ...] = ()  # (from, to) in the sandbox, before the command
    exit_codes: tuple[int, ...] = (0,)
    needs_shared_data: bool = False


RULES = (
    Rule(r"^\./dev run\b", "the main job: tunes on the whole task (minutes); its steps are the commands run here",
         skip=True),
    Rule(r"^\./dev test\b", "runs this test suite", skip=True),
    Rule(r"^source ", "shell set-up; this test already runs inside the venv", skip=True),
    Rule(r"^gsutil ", "Google Cloud's CLI, not this project's", skip=True),
    Rule(r"^(\.venv/bin/)?mlflow ui\b", "MLflow's own UI server; it serves until stopped", skip=True),
    Rule(r"scripts/screenshots\.py\b", "needs the demonstration's store and Chromium; tests/ui/test_mlflow_views.py "
         "runs the script on a tiny store of that shape", skip=True),
    Rule(r"harness\.tune\.gemini action=tune\b",
         "starts a paid Vertex AI tuning job (needs Google Cloud credentials); "
         "tests/backends/test_gemini_jobs.py runs it against the fake server", skip=True),
    Rule(r"^python -m harness$", "the one real Gemma evaluation here: 2 of the 99 examples", set=("task.limit=2",)),
    # docs/recipes.md, WikiLingua before/after tuning: the tutorial's files live in ../shared/data
    *(Rule(rf"^python -m harness task=wikilingua model={name} ", "replay under the documented model name instead "
           "of Gemma summarising long articles (the recipe's real output is in the doc)",
           set=(*REPLAY, "task.limit=2", f"model.name={name}"), needs_shared_data=True)
      for name in ("gemma3_270m", "gemma3_270m_wikilingua_lora")),
    Rule(r"^python -m harness\.tune task=wikilingua\b", "real LoRA tuning on 2 articles, adapter and config in the "
         "sandbox", set=(*TINY_LORA, "conf_dir={sandbox}/conf", "adapters_dir={sandbox}/adapters"),
         needs_shared_data=True),
    Rule(r"^python -m harness\.compare task=wikilingua baseline=gemma3_270m\b", "compares the two replay runs above",
         needs_shared_data=True),
    Rule(r"^python -m harness\.tune\.gemini action=export task=wikilingua\b", "exports the tutorial's train file",
         needs_shared_data=True),
    Rule(r"model\.api=vertex\b|gemini_flash_wikilingua\b", "Vertex AI: needs Google Cloud credentials and the "
         "tuned endpoint of a paid job; tests/backends/test_gemini_jobs.py covers the job", skip=True),
    Rule(r"^python -m harness task=classification task\.data\.path=mlflow-dataset:", "2 of the registered examples: "
         "the same 2 README's first command evaluated (same samples, same seeded subset), so Gemma answers from "
         "the cache", set=("task.limit=2",)),
    # docs/judges.md: the Gemma judge runs once (judge_check on 2 items, below); elsewhere the local fake Gemini
    # server is the judge instead of loading Gemma again (it echoes: every reply is invalid, the path still runs)
    Rule(r"task\.scorers=\[label_match,judge\]", "replay of the references instead of Gemma generating, and the "
         "fake Gemini judge instead of Gemma judging; 2 items",
         set=(*REPLAY, "task.limit=2", "task.judge.model=gemini_flash",
              "task.judge.model_overrides=['base_url={gemini_url}']"), env=(("GEMINI_API_KEY", "fake-key-for-docs"),)),
    Rule(r"^python -m harness\.judge_check .*judge\.model=gemini_flash\b", "needs an API key: the judge is served "
         "by the local fake Gemini server (it echoes, so every reply is invalid); 2 items",
         set=("judge.model_overrides=['base_url={gemini_url}']", "limit=2"),
         env=(("GEMINI_API_KEY", "fake-key-for-docs"),)),
    Rule(r"^python -m harness\.judge_check .*calibration=labels\.jsonl", "labels.jsonl: 3 human grades of "
         "classification outputs; the fake Gemini judge instead of Gemma", files=("labels.jsonl",),
         set=("judge.model=gemini_flash", "judge.model_overrides=['base_url={gemini_url}']"),
         env=(("GEMINI_API_KEY", "fake-key-for-docs"),)),
    Rule(r"^python -m harness\.judge_check task=classification judge\.model=gemma3_270m\b", "the embedded Gemma "
         "judges 2 items (4 outputs), at most 16 tokens each, no re-asks",
         set=("limit=2", "judge.max_new_tokens=16", "judge.retries=0")),
    Rule(r"model=gemini_flash\b", "needs an API key: served by the local fake Gemini server with a fake key",
         set=("model.base_url={gemini_url}", "task.limit=2"), env=(("GEMINI_API_KEY", "fake-key-for-docs"),)),
    Rule(r"task=humaneval_x\b", "HumanEval-X lives in ../shared/data; outs.jsonl: the canonical solutions of 2 "
         "problems", set=("task.limit=2",), files=("outs.jsonl",), needs_shared_data=True),
    Rule(r"task\.data\.path=my\.tsv\b", "my.tsv: a small file of the documented shape; replay instead of Gemma",
         set=REPLAY, files=("my.tsv",)),
    Rule(r"^python -m harness\.tune task=classification model=gemma3_270m$", "README's tune trained this adapter "
         "already (same base, examples and settings: the adapter's key); under the variant's name the command "
         "finds and reuses it, as a re-run does, instead of training again",
         set=(*TINY_LORA, "conf_dir={sandbox}/conf", "adapters_dir={sandbox}/adapters"),
         copies=(("adapters/my_lora", "adapters/gemma3_270m_lora"),)),
    Rule(r"^python -m harness\.tune\b(?!\.)", "real LoRA tuning on 2 examples; the adapter and conf/model/<name>.yaml "
         "go to the sandbox, not the repository", set=(*TINY_LORA, "conf_dir={sandbox}/conf",
                                                      "adapters_dir={sandbox}/adapters")),
    Rule(r"^python -m harness task=classification model=gemma3_270m_lora$",
         "the variant tuned above (its adapter is in the sandbox, not the repository's results/), on 2 examples",
         set=("task.limit=2", "model.adapter.path={sandbox}/adapters/gemma3_270m_lora")),
    Rule(r"^python -m harness -m task=classification model=gemma3_270m,gemma3_270m_lora$",
         "the two cells of the commands above as one sweep; the variant's config reads its adapter from the "
         "repository's results/ (no override can move it for one cell only); README's -m command runs a sweep",
         skip=True),
    Rule(r"^python -m harness .*model=gemma3_270m,gemma3_270m_lora\b",
         "replay instead of four Gemma cells (the Gemma sweep over base and variant runs in docs/models.md)",
         set=(*REPLAY, "task.limit=2")),
    Rule(r"^python -m harness task=summarization\b", "replay instead of Gemma", set=REPLAY),
    Rule(r"^python -m harness\.compare .*candidates=.*my_lora",
         "needs an evaluation run of my_lora: a replay run under that name",
         before=("python -m harness task=classification model=replay model.path={replay} model.name=my_lora "
                 "task.limit=2",)),
    Rule(r"^python -m harness\.curve\b", "one size of 2 examples, zero-shot band only (the 2 examples evaluated "
         "above are cached), tiny LoRA settings; adapters in the sandbox",
         set=("sizes=[2]", "task.limit=2", "task.shots=0", "adapters_dir={sandbox}/adapters",
              "tune=['batch_size=2','lora.rank=2','lora.target_modules=[q_proj]']")),
    Rule(r"^python -m harness\.gate .*candidate=", "exit 1 is a documented outcome (2 examples: the checks fail)",
         before=("python -m harness.gate gate=release release=gemma3_270m",), exit_codes=(0, 1)),
)


@dataclass(frozen=True)
class Command:
    doc: str  # path relative to the repository
    line: int
    text: str  # as documented, continuation lines joined
    argv: tuple[str, ...]  # placeholders replaced, comment dropped, split as the shell would

    @property
    def words(self) -> str:
        """The argv joined by spaces: what RULES patterns are matched against."""
        return " ".join(self.argv)

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {self.text}"


def docs() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def extract(path: Path, root: Path = ROOT) -> list[Command]:
    """The commands of every shell block of one Markdown file, in order."""
    text = path.read_text(encoding="utf-8")
    found: list[Command] = []
    for block in SHELL_FENCE.finditer(text):
        first_line = text.count("\n", 0, block.start(1)) + 1
        pending, start = "", 0
        for offset, raw in enumerate(block.group(1).splitlines()):
            line = raw.strip().removeprefix("$ ")
            if not pending:
                start = first_line + offset
            if line.endswith("\\"):
                pending += line[:-1].rstrip() + " "
                continue
            joined, pending = pending + line, ""
            argv = shlex.split(substitute(joined), comments=True)
            if argv:
                found.append(Command(str(path.relative_to(root)), start, joined, tuple(argv)))
    return found


def substitute(text: str) -> str:
    for placeholder, value in PLACEHOLDERS.items():
        text = text.replace(placeholder, value)
    return text


def rule_for(words: str) -> Rule | None:
    return next((r for r in RULES if re.search(r.pattern, words)), None)


def is_harness(argv: tuple[str, ...] | list[str]) -> bool:
    return (list(argv[:2]) == ["python", "-m"] and argv[2].split(".")[0] == "harness") or argv[0] == "harness"


def all_commands() -> list[Command]:
    return [c for d in docs() for c in extract(d)]


# ------------------------------------------------------------------ fast checks: no subprocess


def test_extractor_joins_continuations_and_drops_comments(tmp_path: Path) -> None:
    md = tmp_path / "x.md"
    md.write_text(
        "text\n```bash\npython -m harness a=1 \\\n  'b=[x, y]'   # why\n\n$ harness --help\n```\n"
        "```yaml\nnot: a command\n```\n```\nplain output\n```\n"
        "```sh\npython -m harness.gate release=<run id | model name>\n```\n"
    )
    cmds = [(c.line, c.argv) for c in extract(md, tmp_path)]
    assert cmds == [
        (3, ("python", "-m", "harness", "a=1", "b=[x, y]")),
        (6, ("harness", "--help")),
        (15, ("python", "-m", "harness.gate", "release=my_lora")),
    ]


def test_every_documented_command_is_run_or_skipped_with_a_reason() -> None:
    commands = all_commands()
    assert len(commands) > 15, "the extractor found the docs' commands"
    for cmd in commands:
        assert rule_for(cmd.words) is not None or is_harness(cmd.argv), f"{cmd}: not a harness command; add a RULE"
        assert not re.search(r"<[^<>]+>", cmd.words), f"{cmd}: unknown placeholder; add it to PLACEHOLDERS"


def test_every_rule_still_matches_a_documented_command() -> None:
    words = [c.words for c in all_commands()]
    stale = [r.pattern for r in RULES if not any(re.search(r.pattern, w) for w in words)]
    stale += [b for r in RULES for b in r.before if not is_harness(shlex.split(b))]
    assert not stale, f"RULES no documented command matches any more (remove or update): {stale}"


def test_rule_overrides_replace_the_documented_value() -> None:
    argv = apply_set(["python", "-m", "harness", "task=x", "task.limit=20"], ("task.limit=2", "model=replay"), {})
    assert argv == ["python", "-m", "harness", "task=x", "task.limit=2", "model=replay"]


# ------------------------------------------------------------------ running them


def apply_set(argv: list[str], overrides: tuple[str, ...], values: dict[str, str]) -> list[str]:
    out = list(argv)
    for item in overrides:
        item = item.format(**values)
        key = item.split("=", 1)[0]
        at = next((i for i, a in enumerate(out) if a.split("=", 1)[0] == key and "=" in a), None)
        if at is None:
            out.append(item)
        else:
            out[at] = item
    return out


@dataclass
class Sandbox:
    root: Path
    gemini_url: str
    env: dict[str, str]
    log: list[tuple[str, float, int]] = field(default_factory=list)
    set_up: set[str] = field(default_factory=set)  # `before` commands already run
    replays: int = 0

    def values(self) -> dict[str, str]:
        return {"sandbox": str(self.root), "gemini_url": self.gemini_url, "replay": "{replay}"}


def write_replay(argv: list[str], dest: Path) -> str:
    """Replay files answering with the references of every task the command names; the path override."""
    from harness.config.load import compose_run
    from harness.data.samples import load_task_data

    overrides = [a for a in argv[3:] if "=" in a and not a.startswith(("model", "hydra"))]
    tasks = next((a.split("=", 1)[1].split(",") for a in overrides if a.startswith("task=")), ["classification"])
    dest.mkdir(parents=True)
    for name in tasks:
        cell = [f"task={name}", *(a for a in overrides if not a.startswith("task="))]
        task = compose_run(cell).task
        rows = [{"id": s.id, "outputs": list(s.references[:1]) or [""]} for s in load_task_data(task).test]
        (dest / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(dest / "${task.name}.jsonl")


def write_files(names: tuple[str, ...], where: Path) -> None:
    for name in names:
        if name == "my.tsv":  # the documented shape: uid, text, label in {negative, positive}
            rows = [f"u{i}\treview {i}: {'great' if i % 2 else 'awful'}\t{['negative', 'positive'][i % 2]}"
                    for i in range(6)]
            (where / name).write_text("uid\ttext\tlabel\n" + "\n".join(rows) + "\n")
        elif name == "labels.jsonl":  # docs/judges.md: human grades of classification outputs on its 1-5 scale
            rows = [{"id": "test-000", "output": "positive", "grade": 5}, {"id": "test-001", "output": "neutral",
                    "grade": 1}, {"id": "test-002", "output": "negative", "grade": "5"}]
            (where / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
        elif name == "outs.jsonl":  # canonical solutions of the first problems of the documented language
            from harness.config.load import compose_run
            from harness.data.samples import load_task_data

            task = compose_run(["task=humaneval_x", "task.language=go", "task.limit=2"]).task
            samples = load_task_data(task).test
            rows = [{"id": s.id, "output": s.fields.get("canonical_solution", s.target)} for s in samples]
            (where / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
        else:
            raise AssertionError(f"no fixture for {name}")


def run_one(box: Sandbox, cmd: Command | str, rule: Rule | None) -> str | None:
    """Run one command; None when it behaved as documented, else what went wrong."""
    argv = list(cmd.argv) if isinstance(cmd, Command) else shlex.split(cmd)
    if rule:
        argv = apply_set(argv, rule.set, box.values())
    if any("{replay}" in a for a in argv):
        box.replays += 1
        path = write_replay(argv, box.root / "replay" / str(box.replays))
        argv = [a.replace("{replay}", path) for a in argv]
    argv = [str(BIN / "python") if a == "python" and i == 0 else a for i, a in enumerate(argv)]
    if argv[0] == "harness":
        argv[0] = str(BIN / "harness")
    env = {**box.env, **dict(rule.env if rule else ())}
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=box.root, env=env, capture_output=True, text=True, timeout=600, check=False)
    box.log.append((shlex.join(argv[1:] if argv[0].endswith("python") else argv), time.perf_counter() - t0,
                    proc.returncode))
    print(f"{box.log[-1][1]:6.1f}s exit {proc.returncode}  {box.log[-1][0]}", flush=True)  # shown with -s
    expected = rule.exit_codes if rule else (0,)
    output = proc.stdout + proc.stderr
    if proc.returncode in expected and "Traceback (most recent call last)" not in output:
        return None
    tail = "\n    ".join(output.strip().splitlines()[-8:])
    return f"{cmd}\n  ran: {shlex.join(argv)}\n  exit {proc.returncode} (expected {expected}):\n    {tail}"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    from tests.fakes import gemini_server

    state, server = gemini_server.start()
    env = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "MLFLOW_TRACKING_URI")}
    env.update(MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}", HF_HUB_OFFLINE="1",
               PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false")
    try:
        yield Sandbox(tmp_path, state.url, env)
    finally:
        gemini_server.stop(server)


@pytest.mark.slow
def test_every_documented_command_runs(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(sandbox.root)  # documented relative paths (my.tsv, outs.jsonl) are the sandbox's
    repo_files_before = _repo_files()
    failures: list[str] = []
    for cmd in all_commands():
        rule = rule_for(cmd.words)
        if rule and rule.skip:
            continue
        if rule and rule.needs_shared_data and not shared_data_dir().is_dir():
            continue  # CI has ../shared/data; a user's clone does not (the other commands still run)
        if rule:
            write_files(rule.files, sandbox.root)
            for source, dest in rule.copies:
                if (sandbox.root / source).is_dir() and not (sandbox.root / dest).exists():
                    shutil.copytree(sandbox.root / source, sandbox.root / dest)
            for before in (b for b in rule.before if b not in sandbox.set_up):
                sandbox.set_up.add(before)  # once per sandbox: the state it made stays
                if (problem := run_one(sandbox, before, None)) is not None:
                    failures.append(f"(set-up for {cmd.doc}:{cmd.line}) {problem}")
        if (problem := run_one(sandbox, cmd, rule)) is not None:
            failures.append(problem)
    print(f"{sum(s for _, s, _ in sandbox.log):.0f} s in {len(sandbox.log)} commands")
    assert not failures, f"{len(failures)} documented command(s) failed:\n\n" + "\n\n".join(failures)
    written = _repo_files() - repo_files_before  # new changes only: a file committed meanwhile is not ours
    assert not written, f"a documented command wrote into the repository: {sorted(written)}"


def _repo_files() -> set[str]:
    """Changed and new files under conf/ (where a tune writes model/<name>.yaml) and tasks/.

    results/ is left out: it is ignored build output that other processes on a developer's
    machine write too; the tune and curve commands' adapters go to the sandbox by rule.
    """
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "conf", "tasks"],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    return set(out.stdout.splitlines())
