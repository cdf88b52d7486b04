"""Errors raised at input boundaries: each names the file, the row and the field."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass
class Problem:
    """One problem found in an input: where it is and what is wrong.

    ``message`` is English (the web translates it by the catalogs' text patterns); ``message_zh``, where a
    validator gives it, is the same message in Chinese, and ``str()`` then reads "中文 / English", each half
    with its own file, row and field (``第 3 行, 字段 'quantity': 数值必须为有限数 / row 3, field 'quantity':
    the value must be finite``)."""

    message: str
    file: str | None = None
    #: the row as the spreadsheet shows it: a table's header is row 1, so its first data row is row 2 (a CSV's
    #: banner lines count as rows too); None = the whole file
    row: int | None = None
    field: str | None = None
    value: object = None
    suggestion: str | None = None
    #: a stable message code and its parameters, for faces that translate (``citycarbon.auth.messages``)
    code: str | None = None
    params: dict[str, str] = dataclasses.field(default_factory=dict)
    #: the message in Chinese (None: English only)
    message_zh: str | None = None

    @property
    def text_en(self) -> str:
        """The English text: where (file, row, field), what, and the suggestion."""
        where = [p for p in (self.file, f"row {self.row}" if self.row is not None else None,
                             f"field '{self.field}'" if self.field else None) if p]
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.suggestion:
            text += f"; did you mean '{self.suggestion}'?"
        return text

    @property
    def text_zh(self) -> str | None:
        """The Chinese text (None when the problem has no Chinese message)."""
        if self.message_zh is None:
            return None
        where = [p for p in (self.file, f"第 {self.row} 行" if self.row is not None else None,
                             f"字段 '{self.field}'" if self.field else None) if p]
        text = (", ".join(where) + ": " if where else "") + self.message_zh
        if self.suggestion:
            text += f"; 是否应为 '{self.suggestion}'?"
        return text

    def __str__(self) -> str:
        zh = self.text_zh
        return self.text_en if zh is None else f"{zh} / {self.text_en}"


class InputError(ValueError):
    """Bad input. Carries every :class:`Problem` found; ``str()`` lists them, first one first."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems: list[Problem] = problems if isinstance(problems, list) else [problems]
        if not self.problems:
            raise ValueError("InputError needs at least one problem")
        super().__init__(self._text())

    def _text(self) -> str:
        head = str(self.problems[0])
        rest = len(self.problems) - 1
        lines = [head] + [f"  also: {p}" for p in self.problems[1:20]]
        if rest >= 20:
            lines.append(f"  ... and {rest - 19} more problems")
        return "\n".join(lines)

    @property
    def first(self) -> Problem:
        return self.problems[0]


@dataclass
class Problems:
    """Collects problems while validating, then raises them together."""

    items: list[Problem] = field(default_factory=list)

    def add(self, message: str, **where: object) -> None:
        self.items.append(Problem(message, **where))  # type: ignore[arg-type]

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)


class ServiceError(Exception):
    """A service refused a request for a reason other than bad input. Every face maps the family the same way:
    :class:`NotFound` → 404, :class:`Forbidden` → 403, :class:`Conflict` → 409 (bad input stays
    :class:`InputError` → 422). ``code`` is stable (for programs and translation); ``message`` reads
    "中文 / English" (the web shows the half in the page's language)."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(ServiceError):
    """The object does not exist, or the caller may not know that it does (another district's: no leak)."""

    code = "not_found"


class Forbidden(ServiceError):
    """The caller's role or token scope may not do this (the object's existence is not secret)."""

    code = "forbidden"


class Conflict(ServiceError):
    """The object is in a state that does not allow this (approving an approved import)."""

    code = "conflict"
