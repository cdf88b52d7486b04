"""Every string the templates translate exists in both catalogs; none of our templates or assets points to
another origin; Babel formats numbers the way each language reads them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2.ext import babel_extract

from citycarbon.web.i18n import LOCALES, Formatter, catalog_path, load_catalog, negotiate

WEB = Path(__file__).resolve().parents[2] / "src" / "citycarbon" / "web"
EXTERNAL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)


def template_msgids() -> set[str]:
    ids = set()
    for path in sorted((WEB / "templates").rglob("*.html")):
        with path.open("rb") as handle:
            for _line, _func, message, _comments in babel_extract(
                    handle, ("_", "gettext", "ngettext"), [], {"extensions": "jinja2.ext.i18n", "trimmed": "true"}):
                ids.add(message if isinstance(message, str) else message[0])
    return ids


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_string_has_a_translation(locale):
    ids = template_msgids()
    assert len(ids) > 150  # the extractor found the templates' strings
    catalog = load_catalog(locale)
    missing = sorted(i for i in ids if i not in catalog or not catalog[i].string)
    assert not missing, f"{locale}: add these msgids to {catalog_path(locale).parent}/*.po: {missing}"


def test_chinese_catalog_is_actually_chinese():
    catalog = load_catalog("zh_CN")
    han = re.compile(r"[\u4e00-\u9fff]")
    untranslated = [m.id for m in catalog if m.id and not han.search(m.string) and m.id not in ("GDP",)]
    assert not untranslated, untranslated


def test_language_negotiation_defaults_to_chinese():
    assert negotiate(None, None) == "zh_CN"
    assert negotiate("en", "zh_CN") == "en"
    assert negotiate(None, "en") == "en"
    assert negotiate("fr", "xx") == "zh_CN"


def test_formats_follow_the_locale():
    zh, en = Formatter("zh_CN"), Formatter("en")
    assert zh.quantity(32_457_247.1, "tce") == "3,245.7 万tce"
    assert en.quantity(32_457_247.1, "tce") == "3,245.7 10k tce"
    assert zh.quantity(0.36792, "tce/(10^4 CNY)", 3) == "0.368 tce/万元"
    assert zh.percent(0.143739) == "14.4%"
    assert zh.quantity(None, "t") == "–"
    assert zh.year(2024) == "2024年" and en.year(2024) == "2024"
    assert zh.datetime("2026-01-01T00:00:00+00:00") == "2026-01-01 08:00"  # shown in Asia/Shanghai


def _our_files() -> list[Path]:
    files = [p for p in (WEB / "templates").rglob("*.html")]
    files += [p for p in (WEB / "static").rglob("*") if p.is_file() and "vendor" not in p.parts]
    return files


def test_no_external_url_in_our_templates_and_assets():
    offenders = {str(p.relative_to(WEB)): EXTERNAL.findall(p.read_text(encoding="utf-8")) for p in _our_files()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_served_pages_reference_only_our_origin(web_env):
    html = web_env.get("/").text
    for attribute in re.findall(r'(?:src|href|action)="([^"]+)"', html):
        assert attribute.startswith(("/", "#", "data:", "?")), attribute
    for asset in re.findall(r'(?:src|href)="(/static/[^"?]+)', html):
        response = web_env.client.get(asset)
        assert response.status_code == 200, asset
        assert "max-age" in response.headers["cache-control"]
        if "/vendor/" not in asset:
            assert not EXTERNAL.findall(response.text), asset


def test_feature_catalogs_merge_and_a_duplicate_msgid_is_refused(tmp_path, monkeypatch):
    import citycarbon.web.i18n as i18n

    folder = tmp_path / "zh_CN" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text('msgid "Cockpit"\nmsgstr "驾驶舱"\n', encoding="utf-8")
    (folder / "pathways.po").write_text('msgid "Levers"\nmsgstr "政策杠杆"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "I18N_DIR", tmp_path)
    catalog = i18n.load_catalog("zh_CN")
    assert catalog["Cockpit"].string == "驾驶舱" and catalog["Levers"].string == "政策杠杆"
    assert i18n.load_translations("zh_CN").gettext("Levers") == "政策杠杆"
    (folder / "monitoring.po").write_text('msgid "Cockpit"\nmsgstr "驾驶舱"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"monitoring\.po"):
        i18n.load_catalog("zh_CN")
