"""Exceptions a user can act on.

    HarnessError
    └── UserError          a mistake in config, data or command line: one line, exit 2
        ├── ConfigError    unknown name, unknown key, wrong type, missing value
        ├── DataError      missing file, malformed row, missing field, duplicate id
        └── RunNotFound    a run that compare/gate needs is not in the store

Anything else that escapes is an internal bug and may show a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class HarnessError(Exception):
    """Base of the harness's own exceptions."""


class UserError(HarnessError):
    """A mistake the user can fix; reported as one line with exit code 2."""


class ConfigError(UserError):
    """A configuration mistake."""


class DataError(UserError):
    """A problem in the data the user pointed the harness at."""


class RunNotFound(UserError):
    """A run named by the user does not exist."""


class RunFailed(HarnessError):
    """The evaluation itself failed (error budget exceeded, backend outage). Exit 1."""


def suggest(name: str, options: Iterable[str]) -> str:
    """A ' (did you mean ...?)' suffix listing close matches, or ''."""
    matches = difflib.get_close_matches(name, list(options), n=3, cutoff=0.5)
    return f" (did you mean: {', '.join(matches)}?)" if matches else ""
