"""Same input, same bytes, for Office Open XML packages (DOCX, XLSX).

python-docx and openpyxl stamp every zip entry with the clock and openpyxl writes the save time into
``docProps/core.xml``; :func:`stable_zip` rewrites a package with every entry dated ``moment`` and the core
properties' ``created``/``modified`` set to it, entries in their original order and compressed alike.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

__all__ = ["stable_zip"]


def stable_zip(package: bytes, moment: datetime) -> bytes:
    """``package`` rewritten so that nothing in it depends on when it was written."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    date_time = (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                for tag in (rb"dcterms:created", rb"dcterms:modified"):
                    data = re.sub(rb"(<" + tag + rb"(?: [^>]*)?>)[^<]*(</" + tag + rb">)",
                                  rb"\g<1>" + stamp + rb"\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            entry.create_system = 3  # the same on every operating system
            target.writestr(entry, data)
    return out.getvalue()
