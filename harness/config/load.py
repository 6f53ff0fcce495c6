"""Composes and validates configs, turning Hydra/OmegaConf errors into one line.

`compose_run(overrides)` is what tests and the preflight use; `to_run_config`
converts a composed DictConfig into plain dataclasses once, at the entry
point, so no DictConfig travels further.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from harness.config.schema import RunConfig
from harness.config.store import register
from harness.core import extensions
from harness.core.errors import ConfigError, suggest
from harness.core.paths import CONFIG_PATH_ENV, ROOT, conf_dir, group_options, user_config_dirs


def _resolvers() -> None:
    if not OmegaConf.has_resolver("hroot"):
        # ${hroot:} is the folder holding conf/ and tasks/ (the clone's root, or harness/_data in a
        # wheel), so shipped data paths work from any directory and in an install
        OmegaConf.register_new_resolver("hroot", lambda: str(ROOT))


def setup() -> None:
    register()
    _resolvers()
    extensions.load_group(extensions.CONFIGS)  # other packages' schemas, before any YAML names them


def compose_run(overrides: Sequence[str], config_name: str = "config") -> RunConfig:
    """Compose conf/<config_name>.yaml with overrides into a validated RunConfig."""
    cfg = compose(overrides, config_name)
    return to_run_config(cfg)


def compose(overrides: Sequence[str], config_name: str = "config") -> DictConfig:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    setup()
    GlobalHydra.instance().clear()
    extra = [] if any(o.startswith("hydra.searchpath=") for o in overrides) else search_path_overrides()
    try:
        with initialize_config_dir(str(conf_dir()), version_base=None):
            return hydra_compose(config_name, overrides=[*overrides, *extra])
    except Exception as exc:  # Hydra raises several types; all are config mistakes here
        raise ConfigError(explain(exc)) from None


def search_path_overrides() -> list[str]:
    """`hydra.searchpath=[...]` for the user's folders in $HARNESS_CONFIG_PATH ([] when unset).

    Hydra searches them after conf/, so a shipped config of the same name wins.
    """
    folders = user_config_dirs()
    for folder in folders:
        if not folder.is_dir():
            raise ConfigError(f"{CONFIG_PATH_ENV}: config folder not found: {folder}")
    if not folders:
        return []
    quoted = ", ".join("'file://" + str(f).replace("\\", "\\\\").replace("'", "\\'") + "'" for f in folders)
    return [f"hydra.searchpath=[{quoted}]"]


@contextlib.contextmanager
def user_search_path(argv: Sequence[str]) -> Iterator[None]:
    """Around a `@hydra.main` call: the user's config folders on Hydra's search path (it reads sys.argv)."""
    extra = [] if any(a.startswith("hydra.searchpath=") for a in argv) else search_path_overrides()
    saved = sys.argv
    sys.argv = [*saved, *extra]
    try:
        yield
    finally:
        sys.argv = saved


T = TypeVar("T")


def compose_object(overrides: Sequence[str], config_name: str, expected: type[T]) -> T:
    """Compose conf/<config_name>.yaml and convert it to its structured-config dataclass.

    The one place where Hydra/OmegaConf errors of any entry point (run, tune,
    compare, gate) become a one-line ConfigError.
    """
    cfg = compose(overrides, config_name)
    try:
        obj = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(explain(exc)) from None
    if not isinstance(obj, expected):
        raise ConfigError(f"conf/{config_name}.yaml must be built on the {expected.__name__} schema")
    return obj


def to_run_config(cfg: DictConfig) -> RunConfig:
    try:
        obj = OmegaConf.to_object(cfg)
    except OmegaConfBaseException as exc:
        raise ConfigError(explain(exc)) from None
    if not isinstance(obj, RunConfig):
        raise ConfigError("the root config must be built on run_schema")
    return obj


_FULL_KEY = re.compile(r"full_key:\s*(\S+)")


def explain(exc: BaseException) -> str:
    """One actionable line from a Hydra/OmegaConf error chain."""
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(chain) < 5:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    text = "\n".join(str(e) for e in chain)

    missing_group = re.search(r"Could not find '(\w+)/([^']+)'", text)
    if missing_group:
        group, name = missing_group.groups()
        options = group_options(group)
        where = ", ".join([f"conf/{group}/", *(str(d / group) for d in user_config_dirs())])
        hint = "" if user_config_dirs() else f"; your own folder: {CONFIG_PATH_ENV}=<folder with {group}/>"
        return (f"unknown {group} {name!r} ({where}){suggest(name, options)}; available: {', '.join(options)}"
                f"{hint}")
    missing_cfg = re.search(r"Cannot find primary config '([^']+)'", text)
    if missing_cfg:
        return f"config file not found: conf/{missing_cfg.group(1)}.yaml"
    m = re.search(r"Could not override '([^']+)'", text) or re.search(r"Key '([^']+)' not in '(\w+)'", text)
    key_match = _FULL_KEY.search(text)
    if m and ("Could not override" in m.group(0) or "not in" in m.group(0)):
        key = key_match.group(1) if key_match else m.group(1)
        return f"unknown config key {key!r}{_key_hint(key)}"
    if "Missing mandatory value" in text or "missing mandatory value" in text:
        key = key_match.group(1) if key_match else re.sub(r".*mandatory value:\s*", "", text.splitlines()[0])
        return f"missing required value {key!r}: set it in the YAML or on the command line ({key}=...)"
    if "could not be converted" in text or "Invalid value" in text or "ValidationError" in type(exc).__name__:
        key = key_match.group(1) if key_match else "?"
        first = next(
            (line for line in text.splitlines() if "convert" in line or "Invalid" in line), text.splitlines()[0]
        )
        return f"wrong type for {key!r}: {first.strip()}"
    if "LexerNoViableAltException" in text or "mismatched input" in text or "no viable alternative" in text:
        return f"bad override syntax: {text.splitlines()[0].strip()} (form: key=value, lists as 'key=[a,b]')"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    where = f" (at {key_match.group(1)})" if key_match else ""
    return f"config error{where}: {lines[0] if lines else type(exc).__name__}"


def _key_hint(key: str) -> str:
    """Close matches for a mistyped key among the schema's field names at that level."""
    from harness.config.store import MODEL_SCHEMAS, TASK_SCHEMAS

    parts = key.split(".")
    head, middle, leaf = parts[0], parts[1:-1], parts[-1]
    roots: list[Any] = [RunConfig]
    if head == "task":
        roots = list(TASK_SCHEMAS.values())
    elif head == "model":
        roots = list(MODEL_SCHEMAS.values())
    if head not in ("task", "model"):
        middle = parts[:-1]
    fields: set[str] = set()
    for root in roots:
        try:
            node: Any = OmegaConf.structured(root)
            for part in middle:
                node = node[part]
            if isinstance(node, DictConfig):
                fields.update(str(k) for k in node)
        except Exception:
            continue
    return suggest(leaf, sorted(fields))
