"""Evidence files (filings' attachments, supervision answers): type checked by content, size-limited, stored
once by SHA-256 (``gov_blobs``), never served inline or executed.

Accepted: PDF, PNG, JPEG, GIF, WebP images, and Excel workbooks (XLSX: a ZIP holding ``[Content_Types].xml``
and ``xl/workbook.xml``; legacy XLS: the OLE2 compound-file signature). The upload's name and declared type
are not trusted: the kind is sniffed from the bytes, and the stored ``media_type`` is the sniffed one.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

from sqlalchemy.orm import Session

from citycarbon.errors import InputError, Problem
from citycarbon.store.governance_models import GovBlob

__all__ = ["MAX_BYTES", "MEDIA_TYPES", "Evidence", "sniff", "store_blob"]

#: the largest evidence file accepted (20 MiB)
MAX_BYTES = 20 * 1024 * 1024

#: sniffed kind → media type served (always as an attachment)
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
}


@dataclass(frozen=True)
class Evidence:
    sha256: str
    media_type: str
    size: int
    kind: str


def sniff(content: bytes) -> str | None:
    """The kind of ``content`` from its bytes, or None when it is none of the accepted kinds."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "webp"
    if content.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "[Content_Types].xml" in names and "xl/workbook.xml" in names and not any(
                name.lower().endswith(("vbaproject.bin",)) for name in names):
            return "xlsx"
    return None


def store_blob(session: Session, content: bytes, *, filename: str, uploaded_by: str,
               max_bytes: int = MAX_BYTES) -> Evidence:
    """Check ``content`` and store it once (an identical file already stored is reused). Raises
    :class:`InputError` naming the file for an empty, too large or unaccepted file; nothing is stored then."""
    if not content:
        raise InputError([Problem(message="the file is empty", file=filename, field="file",
                                  code="evidence_empty", message_zh="文件为空")])
    if len(content) > max_bytes:
        raise InputError([Problem(message=f"{len(content)} bytes, more than the limit of {max_bytes} bytes",
                                  file=filename, field="file", code="evidence_too_large",
                                  message_zh=f"文件 {len(content)} 字节，超过上限 {max_bytes} 字节")])
    kind = sniff(content)
    if kind is None:
        raise InputError([Problem(message="by its content not a PDF, an image (PNG, JPEG, GIF, WebP) or an Excel "
                                          "workbook", file=filename, field="file", code="evidence_type",
                                  message_zh="按文件内容判断，不是 PDF、图片(PNG、JPEG、GIF、WebP)或 Excel 文件")])
    digest = hashlib.sha256(content).hexdigest()
    if session.get(GovBlob, digest) is None:
        session.add(GovBlob(sha256=digest, media_type=MEDIA_TYPES[kind], size=len(content), content=content,
                            created_by=uploaded_by))
        session.flush()
    return Evidence(sha256=digest, media_type=MEDIA_TYPES[kind], size=len(content), kind=kind)
