"""Keeping eventlet services responsive while a call blocks.

The native calls release the GIL, so under native threads other threads run on. Under
eventlet (Cinder and Nova services that monkey-patch), a blocking native call would still
hold the one OS thread every greenthread shares; :func:`offload` wraps an object so that each
method call runs in eventlet's pool of native threads instead (``eventlet.tpool``) and the
calling greenthread yields until it returns.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, TypeVar, cast

T = TypeVar("T")


def eventlet_patched() -> bool:
    """Whether this process runs under eventlet with the standard library patched."""
    eventlet = sys.modules.get("eventlet")
    if eventlet is None:
        return False
    try:
        from eventlet import patcher  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a broken eventlet install
        return False
    return bool(patcher.is_monkey_patched("thread"))


def offload(obj: T) -> T:
    """`obj` itself, or under eventlet a proxy running its methods in native threads."""
    if not eventlet_patched():
        return obj
    from eventlet import tpool

    return cast(T, tpool.Proxy(obj))


def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)``, under eventlet in a native thread."""
    if not eventlet_patched():
        return function(*args, **kwargs)
    from eventlet import tpool

    return cast(T, tpool.execute(function, *args, **kwargs))
