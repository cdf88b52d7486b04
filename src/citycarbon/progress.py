"""The progress protocol of long work: a callable ``progress(done, total, label)`` — nothing else.

Services and domain functions that take seconds (an ingest of many files, an ensemble of many runs, a Sobol
sample, a backup) accept an optional ``progress=`` argument and call it at their natural chunk boundaries:
after each file, each chunk of runs, each table. ``done`` counts what is finished (files, runs, enterprises,
items), never decreases, and the last call has ``done == total``; ``total`` is the number expected (None
while unknown); ``label`` names the item just finished (a file name, a table), never a sentence — the face
that renders the progress writes the words, in the user's language.

This module is pure (no rich, no CLI): the command line renders the calls as a bar on stderr
(:mod:`citycarbon.cli.progress`); the API and the web pass nothing and get :func:`no_progress`. Reporting
never changes a result: the work is chunked the same way with or without a callback.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import Protocol, TypeVar

__all__ = ["Progress", "no_progress", "or_silent", "track"]

T = TypeVar("T")


class Progress(Protocol):
    """Called as ``progress(done, total, label)`` after each finished chunk of work."""

    def __call__(self, done: int, total: int | None, label: str = "", /) -> None: ...


def no_progress(done: int, total: int | None, label: str = "", /) -> None:
    """The default: report nothing."""


def or_silent(progress: Progress | None) -> Progress:
    """``progress``, or :func:`no_progress` for None (so callers need not test for it)."""
    return no_progress if progress is None else progress


def track(items: Iterable[T], progress: Progress | None, *, total: int | None = None,
          label: str = "") -> Iterator[T]:
    """Yield ``items``, reporting ``(n, total, label or str(item))`` after the caller has finished each one.

    The report of an item is made when the next one is asked for (or the iteration ends), so ``done`` counts
    finished items; ``total`` defaults to ``len(items)`` when it has one (without one, the last report gives
    the count as the total).
    """
    report = or_silent(progress)
    if total is None and isinstance(items, Sized):
        total = len(items)
    done = 0
    report(0, total, label)
    for item in items:
        yield item
        done += 1
        report(done, total, label or str(item))
    if total is None:  # now it is known
        report(done, done, label)
