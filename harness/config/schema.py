"""Typed configuration: the structured-config dataclasses behind every YAML.

Each YAML in `conf/task/` and `conf/model/` starts from one of these schemas
through its defaults list (`- /schema/task/classification@_here_`), so Hydra
rejects unknown keys and wrong types while composing, before anything loads.
`???` (MISSING) marks values a config must provide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING

# ---------------------------------------------------------------- models


@dataclass
class PriceConfig:
    """What a request costs: USD per million tokens (APIs) and/or per hour of compute (local models).

    `per_hour_usd` prices a self-hosted model by the time it spends on each
    request (its measured latency), so a longer few-shot prompt costs more
    than a zero-shot one on the same machine, as it does in reality.
    """

    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0
    cached_per_mtok: float = 0.0
    per_hour_usd: float = 0.0


@dataclass
class ModelConfig:
    """Fields every model config has."""

    name: str = MISSING
    backend: str = MISSING
    variant: str = "base"  # base | tuned | lora | prefix | ia3 | ...
    base_model: str = ""  # the model config this one is a variant of
    prices: PriceConfig = field(default_factory=PriceConfig)


@dataclass
class AdapterConfig:
    """A PEFT adapter applied on top of an HF base model."""

    path: str | None = None  # local folder or Hub id
    revision: str | None = None  # pinned revision for a Hub id
    merge: bool = False


@dataclass
class HFModelConfig(ModelConfig):
    """A transformers model: a Hub id, a local folder, or `embedded:gemma3-270m`."""

    backend: str = "hf"
    path: str = MISSING
    gguf_file: str | None = None
    revision: str | None = None
    adapter: AdapterConfig = field(default_factory=AdapterConfig)
    tuning_data: str | None = None  # the file this variant was tuned on (written by harness.tune); leakage audit
    device: str = "auto"  # auto | cpu | cuda
    dtype: str = "auto"  # auto | float32 | bfloat16 | float16
    batch_size: int = 8
    chat_template: bool = True  # wrap prompts in the tokenizer's chat template
    trust_remote_code: bool = False


@dataclass
class GeminiModelConfig(ModelConfig):
    """Gemini through google-genai: Developer API or Vertex AI."""

    backend: str = "gemini"
    model_id: str = MISSING  # e.g. gemini-2.5-flash, tunedModels/..., projects/.../endpoints/...
    api: str = "developer"  # developer | vertex
    api_key_env: list[str] = field(default_factory=lambda: ["GEMINI_API_KEY", "GOOGLE_API_KEY"])
    project: str | None = None
    location: str | None = None
    base_url: str | None = None
    api_version: str | None = None
    concurrency: int = 8
    timeout_s: float = 120.0
    context_cache: bool = False  # cache each batch's shared prompt prefix (harness/backends/gemini/context_cache.py)
    context_cache_min_tokens: int = 1024  # the API's minimum for the model (2.5 Flash 1,024; 2.5 Pro 4,096)
    context_cache_ttl_s: int = 3600
    tuning_data: str | None = None  # local copy of the tuning job's training file; leakage audit (docs/audit.md)


@dataclass
class OpenAIModelConfig(ModelConfig):
    """Any OpenAI-compatible server (vLLM, llama.cpp, ...): chat completions, or plain completions."""

    backend: str = "openai"
    base_url: str = MISSING
    model_id: str = MISSING
    # chat: /v1/chat/completions (instruction-tuned models); completions: /v1/completions, plain prompts
    # for base models, and choice log-likelihoods (classification mode=loglikelihood) through echo+logprobs
    endpoint: str = "chat"
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    timeout_s: float = 120.0


@dataclass
class ReplayModelConfig(ModelConfig):
    """Serves outputs recorded elsewhere: JSONL rows of {id, output} or {id, outputs}."""

    backend: str = "replay"
    path: str = MISSING


# ----------------------------------------------------------------- tasks


@dataclass
class DataConfig:
    """Where a task's data lives and how its fields map to a Sample."""

    path: str = MISSING  # local file (.jsonl/.json/.csv/.tsv, optionally .gz) or Hub id
    name: str | None = None  # Hub data set configuration
    revision: str | None = None
    test_split: str = "test"
    train_split: str | None = "train"
    train_path: str | None = None  # separate local file for the train split
    input_field: str = "input"
    target_field: str | None = "target"
    id_field: str | None = None  # None: ids are row numbers
    quoting: str | None = None  # .csv/.tsv: standard (CSV quoting) | none (quotes are text); None: by suffix


@dataclass
class GenerationConfig:
    max_new_tokens: int = 64
    temperature: float = 0.0
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@dataclass
class JudgeConfig:
    """The pointwise judge of a task (`judge` in task.scorers; docs/judges.md).

    The judge is any model config; it sees the task's input, the output to
    grade and (reference-guided) the reference, under the rubric, and answers
    with one grade of `grades` (worst first) and a rationale.
    """

    model: str = ""  # a conf/model/ name (gemini_flash, gemma3_270m, ...); required when the judge runs
    model_overrides: list[str] = field(default_factory=list)  # e.g. ['base_url=http://...'] for the judge model
    rubric: str = "The output is correct, complete and faithful to the input."  # what a good output is
    template: str = ""  # a Jinja template file in the task's assets folder; '' = the built-in prompt
    reference: bool = True  # show the reference answer (reference-guided); false: reference-free
    grades: list[str] = field(default_factory=lambda: ["fail", "pass"])  # the scale, worst first
    retries: int = 2  # re-asks of an unparsable reply, same prompt (docs/judges.md)
    max_new_tokens: int = 128
    temperature: float = 0.0
    stop: list[str] = field(default_factory=lambda: ["\n\n"])  # the reply is a grade line and a rationale line


@dataclass
class TaskConfig:
    """Fields every task has; each kind extends it."""

    name: str = MISSING
    kind: str = MISSING
    assets: str = ""  # folder under tasks/ with templates; defaults to `name`
    data: DataConfig = field(default_factory=DataConfig)
    template: str = "prompt.jinja"
    system: str | None = None
    shots: int = 0
    limit: int | None = None
    seed: int = 1234
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    scorers: list[str] = MISSING
    primary_metric: str = MISSING
    # raw label value as written in the data (0, 1, "pos", ...) -> the name scorers and templates see;
    # applied to every reference when the data is read (harness.data.samples.map_labels)
    label_map: dict[Any, str] = field(default_factory=dict)
    judge: JudgeConfig = field(default_factory=JudgeConfig)  # used when task.scorers names `judge`


@dataclass
class ClassificationTask(TaskConfig):
    kind: str = "classification"
    labels: list[str] = MISSING
    mode: str = "generate"  # generate | loglikelihood
    choice_prefix: str = " "  # text between prompt and label in loglikelihood mode


@dataclass
class SummarizationTask(TaskConfig):
    kind: str = "summarization"
    use_stemmer: bool = True


@dataclass
class JsonTask(TaskConfig):
    kind: str = "json"
    schema: str | None = None  # path relative to the task's assets folder
    extraction: str = "lenient"  # strict | lenient
    constrained: bool = False  # pass the schema to backends that can constrain output
    field_normalization: dict[str, str] = field(default_factory=dict)  # field -> text|number|date|exact


@dataclass
class CodeTask(TaskConfig):
    kind: str = "code"
    language: str = "python"  # python | cpp | java | js | go | rust
    mode: str = "completion"  # completion | instruction
    execute: bool = True  # the task's half of the double opt-in
    n_samples: int = 1
    k: list[int] = field(default_factory=lambda: [1])
    timeout_s: float = 15.0
    memory_mb: int = 2048


# ------------------------------------------------------------------ run


@dataclass
class TrackingConfig:
    enabled: bool = True
    uri: str | None = None  # default: $MLFLOW_TRACKING_URI, else MLflow's default (sqlite:///mlflow.db)
    experiment: str = "harness"
    log_table: bool = True
    traces: bool = True  # one MLflow trace per example, with its scores as assessments
    parent_run_id: str | None = None  # a multirun's parent run; set by `python -m harness -m`


@dataclass
class CacheConfig:
    enabled: bool = True
    path: str = "results/cache.sqlite"


@dataclass
class RetryConfig:
    max_attempts: int = 6
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    budget_s: float = 900.0  # total time spent waiting on retries in one run
    max_error_rate: float = 0.05  # run fails if more examples than this end in error


@dataclass
class AuditConfig:
    """The leakage audit of a run's test items against its training side (docs/audit.md)."""

    enabled: bool = True
    ngram: int = 13  # words per n-gram (lm-eval's decontamination uses 13)
    near_threshold: float = 0.8  # estimated Jaccard over word shingles, in (0, 1]
    near_shingle: int = 2  # words per shingle
    num_perm: int = 64  # MinHash signature length
    template_max_slot: int = 2  # longest span (tokens) that may vary between otherwise-identical rows
    template_min_frame: int = 4  # literal words a template must keep around its variable parts
    warn_at: float = 0.05  # console warning (and compare's CAUTION) above this share of flagged items
    cache_dir: str | None = None  # None: <results_dir>/.cache/audit


@dataclass
class RunConfig:
    """The root config: one (task, model) cell and how to run it."""

    task: Any = MISSING
    model: Any = MISSING
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)
    results_dir: str = "results"
    allow_code_execution: bool = False  # the run-time half of the double opt-in
    chunk_size: int = 64  # requests per backend call; the unit of resumption
    bootstrap_resamples: int = 1000
    progress: bool = True
    sweep_id: str | None = None
