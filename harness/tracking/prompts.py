"""A task's prompt template in the MLflow Prompt Registry: a new version only when its content changes.

The registered content is the template file's text (Jinja2, as the harness
renders it) and, when the task has one, its system prompt (then the prompt is
a chat template: system + user). A version carries the tag
`harness.content_sha256`; a run whose content hashes the same as the latest
version reuses that version, so comparing two runs' prompt links shows
whether the prompt changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.data.prompts import assets_dir
from harness.tracking.recorder import store_lock

CONTENT_TAG = "harness.content_sha256"


def prompt_name(task: Any) -> str:
    """`harness.<task>.<template stem>`, in the registry's alphabet (letters, digits, `-_.`)."""
    stem = task.template.rsplit(".", 1)[0]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"harness.{task.name}.{stem}")


def template_content(task: Any) -> str | list[dict[str, str]]:
    """What is versioned: the template text, as a chat template when the task has a system prompt."""
    text = (assets_dir(task) / task.template).read_text(encoding="utf-8")
    if task.system:
        return [{"role": "system", "content": task.system}, {"role": "user", "content": text}]
    return text


def content_hash(content: str | list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class PromptLink:
    """The run's write for its prompt: register the template (if changed) and link the run to the version.

    Safe to apply twice: an unchanged template reuses the latest version.
    """

    name: str
    content: str | list[dict[str, str]]
    digest: str
    message: str
    tags: tuple[tuple[str, str], ...]
    kind: str = "prompt"

    @classmethod
    def of(cls, task: Any) -> PromptLink:
        content = template_content(task)
        return cls(prompt_name(task), content, content_hash(content), f"{task.template} of task {task.name}",
                   ((CONTENT_TAG, content_hash(content)), ("harness.task", task.name),
                    ("harness.template", task.template)))

    def register(self, client: Any) -> Any:
        """The PromptVersion for this content: the latest one if unchanged, else a new one."""
        with store_lock(client.tracking_uri):  # two cells starting together must not both add a version
            latest = _latest(client, self.name)
            if latest is not None and latest.tags.get(CONTENT_TAG) == self.digest:
                return latest
            return client.register_prompt(name=self.name, template=self.content, commit_message=self.message,
                                          tags=dict(self.tags))

    def apply(self, client: Any, run_id: str, replay: bool) -> dict[str, str]:
        """Registers; returns the run tags that link it (the caller logs them with the run's other tags)."""
        version = self.register(client)
        # the run tag MLflow's UI reads for a run's prompts; set by the caller because
        # `MlflowClient.link_prompt_version_to_run` writes through the process-global store
        linked = json.dumps([{"name": version.name, "version": str(version.version)}])
        return {"mlflow.linkedPrompts": linked, "harness.prompt": f"prompts:/{version.name}/{version.version}"}

    def encode(self, files: Path) -> dict[str, Any]:
        return {"name": self.name, "content": self.content, "digest": self.digest, "message": self.message,
                "tags": [list(kv) for kv in self.tags]}

    @classmethod
    def decode(cls, data: Mapping[str, Any], files: Path) -> PromptLink:
        return cls(data["name"], data["content"], data["digest"], data["message"],
                   tuple((str(k), str(v)) for k, v in data["tags"]))


def register_template(client: Any, task: Any) -> Any:
    """The PromptVersion for this task's template: the latest one if unchanged, else a new one."""
    return PromptLink.of(task).register(client)


def _latest(client: Any, name: str) -> Any:
    # no cache: another process may have added a version since this one last looked
    return client.load_prompt(f"prompts:/{name}@latest", allow_missing=True, cache_ttl_seconds=0)
