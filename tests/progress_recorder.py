"""A progress listener for tests (``citycarbon.progress`` protocol): records every call and checks the promise
the protocol makes (counts never go down, one total, from 0 to that total)."""

from __future__ import annotations


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None, str]] = []

    def __call__(self, done: int, total: int | None, label: str = "", /) -> None:
        self.calls.append((done, total, label))

    def check_monotone_to(self, total: int) -> None:
        done = [c[0] for c in self.calls]
        assert done == sorted(done), done
        assert {c[1] for c in self.calls} == {total}
        assert done[0] == 0 and done[-1] == total
