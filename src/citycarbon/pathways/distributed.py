"""Scale-out of pathway ensembles and sensitivity samples on a Dask distributed cluster (issue 5 §9).

The sample is drawn in the calling process; here its chunks are sent to Dask workers, each chunk is
evaluated by the model there (the model is pickled once and scattered to every worker), reduced to the
arrays the caller needs, and gathered **in submission order**. Because the model is row-wise and every
statistic is computed by the caller from the gathered arrays, the result is bit-identical to the
in-process run for the same seed.

``dask`` may be a ``distributed.Client``, a scheduler address (``tcp://host:8786``), or ``True`` for the
address in ``CITYCARBON_DASK_SCHEDULER`` (:class:`citycarbon.settings.Settings`). A client made here from an
address is closed again; a client passed in is left open.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from citycarbon.errors import InputError, Problem
from citycarbon.progress import Progress

__all__ = ["map_chunks", "resolve_client"]


@contextlib.contextmanager
def resolve_client(dask: Any) -> Iterator[Any]:
    """A ``distributed.Client`` for ``dask`` (client, address, or ``True`` = the configured scheduler)."""
    try:
        from distributed import Client
    except ImportError as error:  # pragma: no cover - the 'cluster' extra is installed in CI
        raise InputError(Problem("Dask distributed is not installed (pip install 'citycarbon[cluster]')",
                                 field="dask")) from error
    if isinstance(dask, Client):
        yield dask
        return
    address = dask
    if dask is True:
        from citycarbon.settings import Settings

        address = Settings.from_env().dask_scheduler
        if not address:
            raise InputError(Problem("no Dask scheduler configured (set CITYCARBON_DASK_SCHEDULER)",
                                     field="CITYCARBON_DASK_SCHEDULER"))
    if not isinstance(address, str) or not address.strip():
        raise InputError(Problem("dask must be a distributed.Client, a scheduler address or True", field="dask",
                                 value=repr(dask)))
    try:
        client = Client(address.strip(), timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise InputError(Problem(f"cannot reach the Dask scheduler at {address}: {error}", field="scheduler",
                                 value=address)) from error
    try:
        yield client
    finally:
        client.close()


def _run_chunk(model: Any, X: np.ndarray, reducer: Callable[[Any], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return reducer(model.evaluate(X))


def map_chunks(model: Any, chunks: Sequence[np.ndarray], reducer: Callable[[Any], dict[str, np.ndarray]],
               dask: Any, progress: Progress | None = None) -> list[dict[str, np.ndarray]]:
    """Evaluate each chunk on the cluster; the reduced arrays come back in the order of ``chunks``.
    ``progress`` is told the rows finished as chunks complete (in any order; the result keeps chunk order)."""
    with resolve_client(dask) as client:
        [model_future] = client.scatter([model], broadcast=True, hash=False)
        token = uuid.uuid4().hex
        futures = [client.submit(_run_chunk, model_future, chunk, reducer, key=f"pathway-chunk-{token}-{i}")
                   for i, chunk in enumerate(chunks)]
        try:
            if progress is not None:
                from distributed import as_completed

                rows = {future.key: len(chunk) for future, chunk in zip(futures, chunks, strict=True)}
                total, done = sum(rows.values()), 0
                progress(0, total, "")
                for future in as_completed(futures):
                    done += rows[future.key]
                    progress(done, total, "")
            return client.gather(futures)
        finally:
            for future in futures:
                future.release()
            model_future.release()
