"""API routers, discovered by :func:`citycarbon.api.app.discover_routers`: every module here exposing
``router: APIRouter`` is mounted under ``/api/v1``. Each module also declares ``PERMISSIONS``:
``{(method, path): rule}`` with the rules listed in :data:`citycarbon.api.routers._common.RULES`; the
permission-matrix test (tests/api/test_permissions.py) fails for a route without an entry."""
