"""One small registry type, used for scorers and backends.

A thing is registered once, by one name, with a decorator; looking up an
unknown name raises a ConfigError with close-match suggestions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from harness.core.errors import ConfigError, suggest

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> object, filled by decorators at import time of plugin modules."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise RuntimeError(f"{self._what} {name!r} registered twice")
            self._items[name] = obj
            return obj

        return deco

    def get(self, name: str, where: str = "") -> T:
        try:
            return self._items[name]
        except KeyError:
            at = f" at {where}" if where else ""
            known = ", ".join(sorted(self._items))
            raise ConfigError(
                f"unknown {self._what} {name!r}{at}{suggest(name, self._items)}; known: {known}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))
