"""A large import's Python work (standardising rows, triaging claims) spread over the cores.

The work is pure per item, so the items are split into one slice per core and each slice runs
in a forked worker process (it inherits the items and the function: nothing is pickled on the
way in, only the results on the way back). Small jobs, and machines without ``fork``, run in
this process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, Protocol, TypeVar


class Sliceable(Protocol):
    """What :func:`map_slices` splits: a sequence, or an Arrow table (a slice of one is a
    view, and the worker turns its own slice into Python rows)."""

    def __len__(self) -> int: ...
    def __getitem__(self, key: slice) -> Any: ...


Items = TypeVar("Items", bound=Sliceable)
Result = TypeVar("Result")

MIN_ITEMS: Final = 20_000   # below this, a worker's start costs more than it saves
_JOB: dict[str, Any] = {}   # the forked workers' view of the job (set before the fork)


def _run_slice(index: int) -> list[Any]:
    return list(_JOB["function"](_JOB["slices"][index]))


def workers() -> int:
    return min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1, 8)


def map_slices(function: Callable[[Items], Sequence[Result]], items: Items) -> list[Result]:
    """``function`` over ``items`` (in slices), the results in the items' order."""
    count = workers()
    if count < 2 or len(items) < MIN_ITEMS or \
            "fork" not in multiprocessing.get_all_start_methods():
        return list(function(items))
    size = -(-len(items) // count)
    _JOB.update(function=function, slices=[items[i:i + size] for i in range(0, len(items), size)])
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            parts = pool.map(_run_slice, range(len(_JOB["slices"])), chunksize=1)
    finally:
        _JOB.clear()
    return [result for part in parts for result in part]


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off for a bulk step that makes a million objects and no
    cycles: every few thousand of them would start a collection walking all the others.

    The switch is process-wide (in a web worker, every thread's), so keep the block short;
    it is restored as it was, and forked workers inherit it (they make no cycles either)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
