"""Routers of the web cockpit: ``auth`` (login/logout), ``pages`` (read-only pages), ``imports``, ``admin``."""
