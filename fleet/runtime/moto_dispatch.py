"""moto's routing of a request at the cost of the request, not of moto's whole package.

moto 5.2.5's server, for every request, under its dispatcher's one lock:
- lists its own package directory (`backends.list_of_moto_modules`: an `os.listdir` and an
  `isdir` of some 200 entries) to learn whether the host names a service;
- tries every service's URL pattern in turn until one matches the host;
- and, in `BaseResponse.call_action`, lists every member of the response class
  (`inspect.getmembers`) to learn whether the action is one of its methods.

None of these answers changes while the server runs: `install` computes the first once,
and remembers the other two per host and per class. Every answer, error and route is
moto's own; a burst of submissions costs moto about a third less CPU (`make bench-drain`).
"""

from __future__ import annotations

import functools
import threading
from typing import Any

#: Hosts remembered at most (each is a service and a region: a fleet uses a few dozen).
HOSTS = 4096

_installed = threading.Lock()
_done: list[bool] = []


def install() -> None:
    """Make this process's moto server route as above (once; later calls do nothing)."""
    with _installed:
        if _done:
            return
        _done.append(True)
    import moto.backends as backends
    import moto.core.responses as core_responses
    from moto.moto_server import werkzeug_app

    modules = tuple(backends.list_of_moto_modules())
    # Replacing moto's functions with ours is the point (mypy refuses assigning to a method).
    backends.list_of_moto_modules = lambda: modules
    core_responses.method_names_from_class = _method_names(core_responses.method_names_from_class)
    dispatcher = werkzeug_app.DomainDispatcherApplication
    dispatcher.get_backend_for_host = _backend_for_host(dispatcher.get_backend_for_host)  # type: ignore[method-assign]


def _method_names(original: Any) -> Any:
    @functools.cache
    def method_names_from_class(clazz: Any) -> frozenset[str]:
        return frozenset(original(clazz))

    return method_names_from_class


def _backend_for_host(original: Any) -> Any:
    known: dict[Any, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        try:
            return known[host]
        except KeyError:
            found = original(self, host)
            if len(known) < HOSTS:  # the caller holds the dispatcher's lock
                known[host] = found
            return found

    return get_backend_for_host
