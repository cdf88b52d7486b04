"""The monitoring registry in the store (migration 0004_monitoring_registry), on SQLite and PostgreSQL.

Round trip: any valid registry saved and read back gives the frames ``load_registry`` gives (hypothesis), and its
CSV export reads back the same. A refused registry (bad USCC check character, an id too long for the store)
names file, row and field and leaves the previous registry, its version and the audit trail as they were.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from citycarbon.errors import InputError
from citycarbon.monitoring.registry import industries, load_registry, product_limits, registry_dir
from citycarbon.monitoring.uscc import uscc_check_character
from citycarbon.store import (
    audit,
    registry_models,  # noqa: F401  (registers the registry tables)
)
from citycarbon.store.base import Base
from citycarbon.store.monitoring_registry import (
    current_registry,
    load_registry_from_db,
    registry_version,
    save_registry,
)

REGISTRY_TABLES = {"monitoring_enterprises", "monitoring_points", "monitoring_products",
                   "monitoring_registry_versions"}
TABLES = ("enterprises", "points", "products")
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
DISTRICTS = ("210202", "210203", "210204", "210211", "210212", "210213", "210214", "210224", "210281", "210283")
UNITS = {"electricity": ("kWh", "MWh"), "natural_gas": ("m**3",), "coke": ("t", "kg"), "heat": ("GJ", "MJ"),
         "steam": ("t",)}


def uscc(body9: str, region: str = "210211") -> str:
    body = "91" + region + body9
    return body + uscc_check_character(body)


def frames(n_units: int = 2) -> dict[str, pd.DataFrame]:
    """A small literal registry: per unit a main electricity meter, a sub-meter, a gas register, a product."""
    enterprises, points, products = [], [], []
    for k in range(1, n_units + 1):
        eid = f"E{k:03d}"
        enterprises.append({"enterprise_id": eid, "name": f"测试企业{k}", "uscc": uscc(f"MA0TE7T{k:02d}"),
                            "industry_code": "3011", "region": "210211", "tier": "1", "annual_budget_tce": "36500.5",
                            "budget_year": "2025", "annual_energy_tce": ""})
        products.append({"product_id": f"{eid}-P", "enterprise_id": eid, "name": "熟料", "unit": "t",
                         "product_type": "cement_clinker", "limit_standard": "", "limit_value": "",
                         "limit_unit": ""})
        points += [
            {"point_id": f"{eid}-SUB", "enterprise_id": eid, "energy_type": "electricity", "unit": "kWh",
             "kind": "interval", "multiplier": "1", "parent_point_id": f"{eid}-MAIN", "interval_minutes": "15",
             "register_max": "", "purpose": f"product:{eid}-P"},
            {"point_id": f"{eid}-MAIN", "enterprise_id": eid, "energy_type": "electricity", "unit": "MWh",
             "kind": "interval", "multiplier": "200", "parent_point_id": "", "interval_minutes": "15",
             "register_max": "", "purpose": "main"},
            {"point_id": f"{eid}-GAS", "enterprise_id": eid, "energy_type": "natural_gas", "unit": "m**3",
             "kind": "cumulative", "multiplier": "1", "parent_point_id": "", "interval_minutes": "60",
             "register_max": "99999999", "purpose": ""},
        ]
    return {"enterprises": pd.DataFrame(enterprises), "points": pd.DataFrame(points),
            "products": pd.DataFrame(products)}


def assert_same(got, expected) -> None:
    assert got is not None
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name), check_exact=True)


def audit_rows(db) -> int:
    with db.session() as session:
        return audit.count(session, entity="monitoring_registry")


# ------------------------------------------------------------------------------------------------ schema

def test_registry_migration_up_and_down(bare_db):
    bare_db.upgrade("0004_monitoring_registry")
    assert set(inspect(bare_db.engine).get_table_names()) >= REGISTRY_TABLES
    bare_db.downgrade("0003_monitoring_submissions")
    assert not set(inspect(bare_db.engine).get_table_names()) & REGISTRY_TABLES
    bare_db.upgrade()
    assert set(inspect(bare_db.engine).get_table_names()) >= REGISTRY_TABLES


def test_registry_models_match_migration(db):
    def registry_only(obj, name, type_, reflected, compare_to) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return getattr(table, "name", name) in REGISTRY_TABLES

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                               "include_object": registry_only})
        assert compare_metadata(context, Base.metadata) == []


def test_foreign_keys_hold_in_the_database(db):
    save_registry(db, frames(1), "test")
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO monitoring_points (point_id, position, enterprise_id, energy_type, unit, kind, multiplier, "
            "interval_minutes, purpose) VALUES ('X', 9, 'NO-SUCH', 'electricity', 'kWh', 'interval', 1, 15, '')"))
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO monitoring_points (point_id, position, enterprise_id, energy_type, unit, kind, multiplier, "
            "parent_point_id, interval_minutes, purpose) VALUES ('X', 9, 'E001', 'electricity', 'kWh', 'interval', "
            "1, 'NO-SUCH', 15, '')"))
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM monitoring_points")).scalar_one() == 3


# ------------------------------------------------------------------------------------------------ round trip

def test_save_then_load_gives_the_frames_of_the_files(db, tmp_path):
    source = tmp_path / "source"
    load_registry(frames(3)).write(source)
    expected = load_registry(source)
    assert registry_version(db) == 0 and load_registry_from_db(db) is None
    report = save_registry(db, source, "test")
    assert report.changed and report.version == 1 and (report.enterprises, report.points, report.products) == (3, 9, 3)
    got = load_registry_from_db(db)
    assert_same(got, expected)
    # the sub-meter comes before its main meter in the file and stays there
    assert list(got.points["point_id"][:2]) == ["E001-SUB", "E001-MAIN"]
    assert got.products["limit_value"].tolist() == [117.0] * 3  # filled from product_limits.csv
    # the export reads back identically
    got.write(tmp_path / "export")
    assert_same(load_registry(tmp_path / "export"), expected)
    # the audit row says what changed
    with db.session() as session:
        entry = audit.query(session, entity="monitoring_registry")[0]
        assert audit.verify(session).ok
    assert entry["action"] == "import" and entry["actor"] == "test" and entry["entity_id"] == "1"
    assert entry["after"]["added_count"] == {"enterprises": 3, "points": 9, "products": 3}


def test_identical_content_writes_nothing_and_a_change_bumps_the_version(db):
    first = save_registry(db, frames(2), "test")
    again = save_registry(db, load_registry(frames(2)), "test")  # a Registry object: validated again
    assert (again.version, again.changed) == (first.version, False)
    assert audit_rows(db) == 1
    smaller = save_registry(db, frames(1), "admin")
    assert smaller.changed and smaller.version == first.version + 1
    assert smaller.removed == {"enterprises": 1, "points": 3, "products": 1}
    assert registry_version(db) == smaller.version and audit_rows(db) == 2
    assert list(load_registry_from_db(db).enterprises["enterprise_id"]) == ["E001"]


def test_current_registry_reads_the_tables_again_only_after_a_save(db):
    save_registry(db, frames(1), "test")
    version, first = current_registry(db)
    assert current_registry(db)[1] is first  # cached: same object
    save_registry(db, frames(2), "test")
    version2, second = current_registry(db)
    assert version2 == version + 1 and second is not first and len(second.enterprises) == 2


@st.composite
def registries(draw) -> dict[str, pd.DataFrame]:
    """Valid registries: random units, codes, budgets, meters (sub-meters listed before or after their parent,
    cumulative registers), products with and without explicit limits, output points, free text."""
    classes = sorted(industries().index)
    limit_types = sorted(product_limits().index)
    text_ = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12).map(str.strip)
    n_units = draw(st.integers(0, 4))
    enterprises, points, products = [], [], []
    codes = draw(st.lists(st.text(ALPHABET, min_size=9, max_size=9), min_size=n_units, max_size=n_units,
                          unique=True))
    for k in range(n_units):
        eid = draw(st.sampled_from(["E", "企业-", "x/"])) + str(k)
        tier = draw(st.sampled_from([1, 2]))
        annual = draw(st.one_of(st.none(), st.floats(10_000, 1e6) if tier == 1 else st.floats(5_000, 9_999)))
        budget = draw(st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)))
        enterprises.append({
            "enterprise_id": eid, "name": draw(text_.filter(bool)), "uscc": uscc(codes[k]),
            "industry_code": draw(st.sampled_from(classes)), "region": draw(st.sampled_from(DISTRICTS)),
            "tier": tier, "annual_budget_tce": budget, "budget_year": None if budget is None else 2025,
            "annual_energy_tce": annual})
        own: list[dict] = []
        for j in range(draw(st.integers(0, 2))):
            pid = f"{eid}-P{j}"
            explicit = draw(st.booleans())
            products.append({"product_id": pid, "enterprise_id": eid, "name": draw(text_.filter(bool)),
                             "unit": "t", "product_type": "" if explicit else draw(st.sampled_from(limit_types)),
                             "limit_standard": "GB 00000" if explicit else "",
                             "limit_value": draw(st.floats(1, 1e4)) if explicit else None,
                             "limit_unit": "kgce/t" if explicit else ""})
            if draw(st.booleans()):
                own.append({"point_id": f"{pid}-OUT", "enterprise_id": eid, "energy_type": "product_output",
                            "unit": "t", "kind": "interval", "multiplier": 1.0, "parent_point_id": "",
                            "interval_minutes": 60, "register_max": None, "purpose": f"output:{pid}"})
        for j in range(draw(st.integers(0, 4))):
            etype = draw(st.sampled_from(sorted(UNITS)))
            kind = draw(st.sampled_from(["interval", "cumulative"]))
            parents = [p["point_id"] for p in own if p["energy_type"] == etype]
            parent = draw(st.sampled_from(["", *parents]))
            own.append({"point_id": f"{eid}-M{j}", "enterprise_id": eid, "energy_type": etype,
                        "unit": draw(st.sampled_from(UNITS[etype])), "kind": kind,
                        "multiplier": draw(st.floats(1, 1e4)), "parent_point_id": parent,
                        "interval_minutes": draw(st.sampled_from([15, 30, 60])),
                        "register_max": draw(st.one_of(st.none(), st.floats(1, 1e12))) if kind == "cumulative"
                        else None,
                        "purpose": draw(st.one_of(text_.filter(lambda t: ":" not in t), st.just("")))})
        points += draw(st.permutations(own))
    return {"enterprises": pd.DataFrame(enterprises, columns=[
                "enterprise_id", "name", "uscc", "industry_code", "region", "tier", "annual_budget_tce",
                "budget_year", "annual_energy_tce"]),
            "points": pd.DataFrame(points, columns=list(load_registry(frames(1)).points.columns)),
            "products": pd.DataFrame(products, columns=list(load_registry(frames(1)).products.columns))}


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=registries())
def test_round_trip_property(db, tmp_path_factory, source):
    expected = load_registry(source)
    save_registry(db, source, "test")
    got = load_registry_from_db(db)
    assert_same(got, expected)
    folder = tmp_path_factory.mktemp("export")
    got.write(folder)
    assert_same(load_registry(folder), expected)


# ------------------------------------------------------------------------------------------------ refusals

def test_a_refused_import_changes_nothing(db, tmp_path):
    save_registry(db, frames(2), "test")
    before, version, audited = load_registry_from_db(db), registry_version(db), audit_rows(db)
    bad = frames(3)
    code = bad["enterprises"].loc[1, "uscc"]
    bad["enterprises"].loc[1, "uscc"] = code[:-1] + ("0" if code[-1] != "0" else "1")  # wrong check character
    folder = tmp_path / "bad"
    folder.mkdir()
    for name, frame in bad.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    with pytest.raises(InputError) as refused:
        save_registry(db, folder, "test")
    problem = refused.value.problems[0]
    assert (problem.file, problem.row, problem.field) == ("enterprises.csv", 3, "uscc")  # frame row 1: sheet row 3
    assert "check character" in problem.message
    assert registry_version(db) == version and audit_rows(db) == audited
    assert_same(load_registry_from_db(db), before)


def test_an_id_longer_than_the_store_allows_is_refused_with_row_and_field(db):
    save_registry(db, frames(1), "test")
    long = frames(2)
    long["points"].loc[5, "point_id"] = "P" * 201
    with pytest.raises(InputError) as refused:
        save_registry(db, long, "test")
    problem = refused.value.problems[0]
    assert (problem.file, problem.row, problem.field) == ("points.csv", 6, "point_id")
    assert registry_version(db) == 1 and len(load_registry_from_db(db).enterprises) == 1


# ------------------------------------------------------------------------------------------------ CLI, seeding

def _cli(*args: str, code: int = 0) -> str:
    from citycarbon.cli import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_cli_imports_into_the_store_lists_exports_and_refuses(db, tmp_path):
    source = tmp_path / "source"
    load_registry(frames(2)).write(source)
    out = json.loads(_cli("monitoring", "registry", "import", str(source), "--format", "json"))
    assert out["changed"] and out["version"] == registry_version(db) == 1 and out["points"] == 6
    listed = json.loads(_cli("monitoring", "registry", "list", "--table", "points", "--enterprise", "E002",
                             "--format", "json"))
    assert [r["point_id"] for r in listed["rows"]] == ["E002-SUB", "E002-MAIN", "E002-GAS"]
    _cli("monitoring", "registry", "export", str(tmp_path / "export"), "--format", "json")
    assert_same(load_registry(tmp_path / "export"), load_registry(source))
    # a refused import names the file, row and field and changes nothing
    bad = tmp_path / "bad.csv"
    enterprises = frames(3)["enterprises"]
    enterprises.loc[2, "uscc"] = "91210211MA0TE7T03X"
    enterprises.to_csv(bad.with_name("enterprises.csv"), index=False)
    output = _cli("monitoring", "registry", "import", str(bad.with_name("enterprises.csv")), code=2)
    assert "enterprises.csv, row 4, field 'uscc'" in output  # frame row 2: sheet row 4
    assert registry_version(db) == 1
    # --registry DIR still works on files, without the store
    files = json.loads(_cli("monitoring", "registry", "list", "--registry", str(tmp_path / "export"),
                            "--format", "json"))
    assert len(files["rows"]) == 2


def test_ensure_ready_adopts_the_registry_files_of_an_earlier_release(settings):
    from citycarbon.store.db import Database
    from citycarbon.store.seed import _adopt_registry_files

    load_registry(frames(2)).write(registry_dir(settings.home))
    database = Database(settings)
    try:
        database.upgrade()
        _adopt_registry_files(database, settings, "system")
        assert_same(load_registry_from_db(database), load_registry(registry_dir(settings.home)))
        load_registry(frames(1)).write(registry_dir(settings.home))
        _adopt_registry_files(database, settings, "system")  # the store has a registry now: files are ignored
        assert registry_version(database) == 1 and len(load_registry_from_db(database).enterprises) == 2
    finally:
        database.dispose()


def test_backup_and_restore_carry_the_registry(db, tmp_path):
    """The backup dumps the registry tables; a restore (here into a fresh SQLite store) inserts sub-meters after
    their parents and gives back the same registry and version."""
    from citycarbon.settings import Settings
    from citycarbon.store.backup import backup, restore
    from citycarbon.store.db import Database

    source = frames(2)
    for column in ("point_id", "parent_point_id"):  # the dump's key order puts the sub-meter before its parent
        source["points"][column] = source["points"][column].str.replace("-MAIN", "-ZMAIN")
    save_registry(db, source, "test")
    archive = tmp_path / "b.zip"
    manifest = backup(db, archive, lake_dir=tmp_path / "no-lake")
    assert {t["name"]: t["rows"] for t in manifest["tables"]}["monitoring_points"] == 6
    other = Database(Settings.for_home(tmp_path / "other"))
    try:
        restore(other, archive, lake_dir=tmp_path / "other-lake")
        assert registry_version(other) == registry_version(db)
        assert_same(load_registry_from_db(other), load_registry_from_db(db))
    finally:
        other.dispose()


def test_cli_mqtt_takes_a_registry_import_without_a_restart(db, tmp_path):
    """`citycarbon monitoring mqtt` on the store's registry: a message for an enterprise the registry does not
    hold yet is refused; after an import that adds it, the next message is ingested, in the same run."""
    import socket
    import threading
    import time
    import uuid

    import paho.mqtt.client as mqtt

    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
    except OSError:
        pytest.skip("no MQTT broker on 127.0.0.1:1883 (Mosquitto)")
    from citycarbon.store.monitoring_submissions import list_submissions

    save_registry(db, frames(1), "test")
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    client_id = f"{prefix}-ingest"
    # the service's persistent session exists before anything is published, so no message is lost
    session = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                          clean_session=False, protocol=mqtt.MQTTv311)
    session.connect("127.0.0.1", 1883)
    session.loop_start()
    session.subscribe(f"{prefix}/cc/readings/#", qos=1)[1]
    time.sleep(0.5)
    session.loop_stop()
    session.disconnect()
    output: list[str] = []
    runner = threading.Thread(target=lambda: output.append(_cli(
        "monitoring", "mqtt", "--topic", f"{prefix}/cc/readings/#", "--client-id", client_id,
        "--lake", str(tmp_path / "lake"), "--max-messages", "2", "--format", "json")))
    publisher = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-pub")
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    body = json.dumps({"readings": [{"point_id": "E002-MAIN", "start": f"2025-03-01T00:{m:02d}:00+08:00",
                                     "end": f"2025-03-01T00:{m + 15:02d}:00+08:00", "value": 1.5, "unit": "MWh"}
                                    for m in (0, 15, 30)]})
    runner.start()
    try:
        publisher.publish(f"{prefix}/cc/readings/E002", body, qos=1).wait_for_publish(5)
        deadline = time.time() + 60
        while time.time() < deadline:  # the refusal is recorded as a submission
            with db.session() as s:
                if list_submissions(s, enterprise_ids=None, limit=5)[1]:
                    break
            time.sleep(0.2)
        save_registry(db, frames(2), "test")  # the import that adds E002
        time.sleep(5.5)  # the service looks at the version at most every 5 s
        publisher.publish(f"{prefix}/cc/readings/E002", body, qos=1).wait_for_publish(5)
        runner.join(90)
        assert not runner.is_alive()
    finally:
        publisher.loop_stop()
        publisher.disconnect()
    stats = json.loads(output[0])  # the service's counters
    assert (stats["messages"], stats["refused"], stats["accepted"]) == (2, 1, 3)
