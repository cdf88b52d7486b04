"""The REST API (FastAPI): ``create_app(settings)`` in :mod:`citycarbon.api.app`; routers under ``/api/v1``.

An adapter: handlers check the caller's :class:`~citycarbon.auth.principal.Principal`, call the store and
the service functions, and wrap results in the ``{"meta", "data"}`` envelope. No domain logic here.
"""
