"""The replay backend: answers with outputs recorded elsewhere.

`model=replay model.path=outputs.jsonl` scores a file of outputs (from
another harness, a vendor's batch job, a colleague's run) with this
harness's tasks and metrics. Each JSONL row is

    {"id": "17", "output": "text"}            one output
    {"id": "17", "outputs": ["a", "b", ...]}  several, for pass@k

and rows repeating an id add to its outputs, in file order. A request for
`n` candidates gets the first `n`. A request whose sample id is not in the
file, or that asks for more outputs than the file has, is a DataError:
scoring a partial file would silently change the denominator.

The identity's revision is the file's sha256, so the cache and MLflow tell
two replay files apart.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.backends.base import BACKENDS, BackendIdentity, BackendPlugin, Capability
from harness.core.errors import DataError
from harness.core.records import BackendError, ErrorKind, Request, RequestKind, Response

CAPABILITIES = frozenset({Capability.CANDIDATES, Capability.SAMPLING})


def _file(cfg: Any) -> Path:
    path = Path(cfg.path)
    if not path.is_file():
        raise DataError(f"replay file not found: {path} (model.path)")
    return path


def file_sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def read_outputs(path: Path) -> dict[str, list[str]]:
    """id -> outputs, in file order; DataError naming file and line on a bad row."""
    outputs: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{where}: malformed JSON row: {exc.msg}") from None
            if not isinstance(row, dict) or row.get("id") is None:
                raise DataError(f"{where}: a replay row must be an object with an 'id'")
            if "outputs" in row:
                texts = row["outputs"]
                if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                    raise DataError(f"{where}: 'outputs' must be a list of strings")
            elif isinstance(row.get("output"), str):
                texts = [row["output"]]
            else:
                raise DataError(f"{where}: a replay row needs 'output' (a string) or 'outputs' (a list of strings)")
            outputs.setdefault(str(row["id"]), []).extend(texts)
    return outputs


class ReplayBackend:
    """Serves recorded outputs by sample id."""

    capabilities = CAPABILITIES

    def __init__(self, path: Path, identity: BackendIdentity) -> None:
        self.path = path
        self.identity = identity
        self._outputs = read_outputs(path)

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        return [self._answer(r) for r in requests]

    def _answer(self, request: Request) -> Response:
        if request.kind is RequestKind.CHOICES:
            return Response(
                finish_reason="error",
                error=BackendError(ErrorKind.FATAL, "the replay backend cannot score choices (log-likelihood)"),
            )
        texts = self._outputs.get(request.sample_id)
        if texts is None:
            raise DataError(f"{self.path}: no output for sample id {request.sample_id!r}")
        n = max(request.params.n, 1)
        if len(texts) < n:
            raise DataError(
                f"{self.path}: sample id {request.sample_id!r} has {len(texts)} output(s), the task asks for {n}"
            )
        # token counts are unknown for recorded text; they stay 0 rather than guessed
        return Response(texts=tuple(texts[:n]), finish_reason="stop")

    def close(self) -> None:
        self._outputs = {}


def identify(cfg: Any) -> BackendIdentity:
    path = _file(cfg)
    return BackendIdentity(
        backend="replay",
        model=cfg.name,
        revision=file_sha256(path),
        variant=getattr(cfg, "variant", "base"),
        base_model=getattr(cfg, "base_model", ""),
    )


def load(cfg: Any) -> ReplayBackend:
    return ReplayBackend(_file(cfg), identify(cfg))


BACKENDS.register("replay")(
    BackendPlugin(identify=identify, load=load, capabilities=CAPABILITIES, per_sample=True)
)
