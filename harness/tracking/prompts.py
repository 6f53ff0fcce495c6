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
import re
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
    import json

    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def register_template(client: Any, uri: str, task: Any) -> Any:
    """The PromptVersion for this task's template: the latest one if unchanged, else a new one."""
    name = prompt_name(task)
    content = template_content(task)
    digest = content_hash(content)
    with store_lock(uri):  # two cells starting together must not both add a version
        latest = _latest(client, name)
        if latest is not None and latest.tags.get(CONTENT_TAG) == digest:
            return latest
        return client.register_prompt(
            name=name,
            template=content,
            commit_message=f"{task.template} of task {task.name}",
            tags={CONTENT_TAG: digest, "harness.task": task.name, "harness.template": task.template},
        )


def _latest(client: Any, name: str) -> Any:
    # no cache: another process may have added a version since this one last looked
    return client.load_prompt(f"prompts:/{name}@latest", allow_missing=True, cache_ttl_seconds=0)
