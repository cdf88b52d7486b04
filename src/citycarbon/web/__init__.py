"""The web cockpit (驾驶舱): server-rendered pages (Jinja2 + HTMX + ECharts), zh_CN by default, English switch.

:func:`mount` adds the pages and ``/static`` to a FastAPI app (the API's ``create_app`` calls it). Pages call
the service functions in-process (no HTTP round trip) through :class:`citycarbon.web.data.DataSource`, which
caches results per data version. Every page and fragment checks the caller's
:class:`~citycarbon.auth.principal.Principal`; nothing a role may not see reaches the HTML.

Assets: our own CSS/JS under ``web/static/{css,js}``; ECharts and htmx are copied from ``node_modules`` into
``web/static/vendor/`` at install time (``tools/vendor_assets.py``). Nothing is loaded from another origin.
"""

from __future__ import annotations

from fastapi import FastAPI

from citycarbon.settings import Settings

__all__ = ["mount"]


def mount(app: FastAPI, settings: Settings, *, source=None) -> None:
    """Add the cockpit pages, ``/static`` and the language switch to ``app``.

    ``source``: a :class:`~citycarbon.web.data.DataSource` (default: the store's ledger when the store is
    available, else the shipped reference files of ``settings.city``).
    """
    from citycarbon.web.app import install

    install(app, settings, source=source)
