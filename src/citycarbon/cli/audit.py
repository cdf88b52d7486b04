"""``citycarbon audit verify|list``: check the hash chain of the audit log and read it with filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from citycarbon.cli.db import cli_actor, open_database
from citycarbon.cli.output import FORMAT_OPTION, OutputFormat, emit, fail

audit_app = typer.Typer(help="Audit log: verify the hash chain, list entries. 审计日志。", no_args_is_help=True)
#: naive times given on the command line are Beijing time (what users read on screen)
LOCAL = ZoneInfo("Asia/Shanghai")


def parse_time(text: str | None, option: str) -> datetime | None:
    """An ISO date or date-time; without an offset it is Asia/Shanghai time."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not an ISO date or date-time (e.g. 2026-11-27 or "
                                 "2026-11-27T09:00+08:00)", param_hint=option) from exc
    return moment.replace(tzinfo=LOCAL) if moment.tzinfo is None else moment


@audit_app.command("verify")
def verify(
    against: Annotated[Path | None, typer.Option("--against", help="a backup archive: its audit head must "
                                                                   "still be in the chain (detects removed "
                                                                   "newest rows)")] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Recompute the hash chain; exit 1 and name the first bad seq when a row was edited, deleted or moved."""
    from citycarbon.errors import InputError
    from citycarbon.services import audit
    from citycarbon.services.users import cli_principal

    database = open_database()
    try:
        result = audit.verify_chain(database, cli_principal(cli_actor()), against=against).to_dict()
    except InputError as error:
        fail(error)
        return
    finally:
        database.dispose()
    emit(result, fmt, rows=[{"field": k, "value": v} for k, v in result.items() if k != "anchor"],
         title="审计链校验 / audit chain " + ("OK" if result["ok"] else "BROKEN"))
    if not result["ok"]:
        raise typer.Exit(1)


@audit_app.command("list")
def list_entries(
    actor: Annotated[str | None, typer.Option("--actor", help="username (or cli:<user>)")] = None,
    entity: Annotated[str | None, typer.Option("--entity", help="e.g. ledger, import_batch, user, job")] = None,
    action: Annotated[str | None, typer.Option("--action", help="e.g. import.approve")] = None,
    since: Annotated[str | None, typer.Option("--since", help="from this time (ISO; default zone Asia/Shanghai)")]
    = None,
    until: Annotated[str | None, typer.Option("--until", help="before this time (ISO)")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Audit entries, newest first, filtered by actor, entity, action and time."""
    from citycarbon.services import audit
    from citycarbon.services.users import cli_principal

    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    database = open_database()
    try:
        found = audit.list_entries(database, cli_principal(cli_actor()), actor=actor, entity=entity, action=action,
                                   since=start, until=end, limit=limit, offset=offset)
        entries, total = found.entries, found.total
    except ValueError as error:
        fail(error)
        return
    finally:
        database.dispose()
    rows = [{"seq": e["seq"], "at": datetime.fromisoformat(e["at"]).astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S"),
             "actor": e["actor"], "action": e["action"], "entity": e["entity"], "entity_id": e["entity_id"],
             "reason": e["reason"]} for e in entries]
    emit({"total": total, "limit": limit, "offset": offset, "entries": entries}, fmt, rows=rows,
         title=f"审计日志 / audit log ({len(entries)} of {total})")


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
