"""The whole URLconf as a list of routes, for the tests that must visit every one.

Each route has its full name ("namespace:name"; an unnamed pattern is named by
its pattern), its view, its full pattern and the names of its path parameters,
and can give a concrete path for given parameter values. A path is checked to
resolve back to the same view, so a test never believes it visited a route it
did not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, resolve

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
_GROUP = re.compile(r"\(\?P<(\w+)>[^()]*\)")


@dataclass(frozen=True)
class Route:
    name: str
    namespace: str
    view: Callable[..., Any]
    pattern: str
    params: tuple[str, ...]

    @property
    def access(self) -> str | None:
        return getattr(self.view, "access", None)

    def path(self, values: Mapping[str, object]) -> str:
        """The path of this route with `values` for its parameters (each one must be given)."""
        missing = [p for p in self.params if p not in values]
        if missing:
            raise KeyError(f"{self.name}: no value for {', '.join(missing)}")
        path = _GROUP.sub(lambda m: str(values[m.group(1)]), self.pattern)
        path = "/" + _CONVERTER.sub(lambda m: str(values[m.group(2)]), path).replace("^", "").replace("$", "")
        if resolve(path).func is not self.view:
            raise AssertionError(f"{path} does not resolve to the view of {self.name}")
        return path


def all_routes() -> list[Route]:
    found: list[Route] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for entry in resolver.url_patterns:
            pattern = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry, pattern, inner)
            elif isinstance(entry, URLPattern):
                params = tuple(m.group(1) for m in _GROUP.finditer(pattern)) + tuple(
                    m.group(2) for m in _CONVERTER.finditer(_GROUP.sub("", pattern)))
                name = entry.name or pattern
                found.append(Route(f"{namespace}{name}", namespace.rstrip(":"), entry.callback,
                                   pattern, params))

    walk(get_resolver(), "", "")
    return found
