"""Every quotation of the work plan in a data file is verbatim (issue 13, "Misquotes").

Convention (documented in docs/data-dalian.md and in the banner of data/pathways/levers.csv):

* text in corner brackets 「…」 anywhere in a data file under ``src/citycarbon/data/`` is a quotation of the plan;
  an ellipsis (…) inside it stands for omitted words, the parts must appear in order;
* the plan file's own fields ``text_zh``, ``exception_zh``, ``quote`` and ``plan_text`` (data/plans/*.yaml) are
  quotations too;
* a quotation attributed to a task ("task 9 「…」", "tasks 4-6 「…」「…」") must come from that task (its title
  and paragraph), one attributed to "主要目标" from the main goals;
* a plan reference may not be followed by a Chinese paraphrase in round brackets ("plan task 10 (庄河、长海海上
  风电)"): a reader takes it for the plan's words. Quote with 「」 or paraphrase in English.

Each quotation must be a substring of the plan text shipped as ``data/plans/dalian.plan.zh.txt`` (a copy of
the plan as reposted). Comparison ignores whitespace and character width (Unicode NFKC: the repost writes
half-width "," and "()" where the original has "，" and "（）"), nothing else.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from citycarbon.data import data_path

PLAN_FILE = data_path("plans/dalian.plan.zh.txt")
DATA = data_path("")
SUFFIXES = {".csv", ".yaml", ".yml", ".json", ".md", ".txt"}
QUOTE_KEYS = {"text_zh", "exception_zh", "quote", "plan_text"}
CORNER = re.compile(r"「([^「」]+)」")
CJK = r"[\u3400-\u9fff]"
ATTRIBUTED = re.compile(r"\b[Tt]asks?\s+(\d+(?:\s*(?:-|–|,|and)\s*\d+)*)\s*((?:「[^「」]+」)+)")
GOALS = re.compile(r"主要目标(?:\s*20\d\d)?\s*((?:「[^「」]+」)+)")
PARAPHRASE = re.compile(rf"\b[Pp]lan (?:tasks?|targets?|goals?)\s*[\d\s,\-–]*\(([^()]*{CJK}[^()]*)\)")


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


PLAN = normalise(PLAN_FILE.read_text(encoding="utf-8"))


def plan_sections() -> dict[str, str]:
    """The plan's numbered tasks ("1" … "31", title and paragraph) and its main goals ("goals"), normalised."""
    sections: dict[str, list[str]] = {"goals": []}
    current = None
    for line in PLAN_FILE.read_text(encoding="utf-8").splitlines():
        head = re.match(r"^(\d+)\.", line)
        if line.startswith("一、主要目标"):
            current = "goals"
        elif line.startswith(("二、", "三、")) or re.match(r"^\(.\)", line):
            current = None
        elif head:
            current = head.group(1)
            sections[current] = []
        if current is not None:
            sections[current].append(line)
    return {key: normalise("".join(lines)) for key, lines in sections.items()}


SECTIONS = plan_sections()


def task_numbers(spec: str) -> list[str]:
    numbers: list[str] = []
    for part in re.split(r"\s*(?:,|and)\s*", spec):
        bounds = re.split(r"\s*[-–]\s*", part.strip())
        numbers += [str(n) for n in range(int(bounds[0]), int(bounds[-1]) + 1)]
    return numbers


def is_verbatim(quote: str, plan: str = PLAN) -> bool:
    """True when the quotation's parts (split at ellipses) appear in the plan in this order."""
    position = 0
    for part in (p for p in re.split(r"…+|\.\.\.", normalise(quote)) if p):
        found = plan.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


def data_files() -> list[Path]:
    return sorted(p for p in DATA.rglob("*") if p.is_file() and p.suffix in SUFFIXES and p != PLAN_FILE)


def _yaml_quotes(node, where: str):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in QUOTE_KEYS and isinstance(value, str):
                yield f"{where}.{key}", value
            else:
                yield from _yaml_quotes(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _yaml_quotes(value, f"{where}[{i}]")


def quotations() -> list[tuple[str, str]]:
    found = []
    for path in data_files():
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(DATA).as_posix()
        for number, line in enumerate(text.splitlines(), start=1):
            found += [(f"{rel}:{number}", m.group(1)) for m in CORNER.finditer(line)]
        if path.suffix in (".yaml", ".yml") and path.parent.name == "plans":
            found += [(f"{rel}:{where}", quote) for where, quote in _yaml_quotes(yaml.safe_load(text), "")]
    return found


QUOTES = quotations()


def test_the_shipped_plan_text_is_the_plan():
    opening = "为深入贯彻落实《中共中央、国务院关于完整准确全面贯彻新发展理念做好碳达峰碳中和工作的意见》"
    assert PLAN.startswith(normalise(opening))
    assert "31.完善市场机制。" in PLAN and len(PLAN) > 5000


def test_there_are_quotations_to_check():
    where = {w.split(":")[0] for w, _ in QUOTES}
    assert "pathways/levers.csv" in where and "plans/dalian.yaml" in where
    assert len(QUOTES) >= 60


@pytest.mark.parametrize(("where", "quote"), QUOTES, ids=[w for w, _ in QUOTES])
def test_every_quotation_is_verbatim(where, quote):
    assert is_verbatim(quote), f"{where}: 「{quote}」 is not in the plan text"


def test_no_plan_reference_is_followed_by_a_chinese_paraphrase():
    offenders = []
    for path in data_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            offenders += [f"{path.relative_to(DATA).as_posix()}:{number}: ({m.group(1)})"
                          for m in PARAPHRASE.finditer(line)]
    assert not offenders, "quote the plan in 「」 or paraphrase in English:\n" + "\n".join(offenders)


def attributions() -> list[tuple[str, list[str], str]]:
    found = []
    for path in data_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            where = f"{path.relative_to(DATA).as_posix()}:{number}"
            for m in ATTRIBUTED.finditer(line):
                found += [(where, task_numbers(m.group(1)), q) for q in CORNER.findall(m.group(2))]
            for m in GOALS.finditer(line):
                found += [(where, ["goals"], q) for q in CORNER.findall(m.group(1))]
    return found


ATTRIBUTIONS = attributions()


def test_task_sections_are_parsed():
    assert len(SECTIONS) == 32 and "严控燃煤锅炉房建设" in SECTIONS["9"]
    assert "重点耗能行业能源利用效率达到国内先进水平" in SECTIONS["goals"]
    assert len(ATTRIBUTIONS) >= 20


@pytest.mark.parametrize(("where", "tasks", "quote"), ATTRIBUTIONS, ids=[f"{w}:{q[:12]}" for w, _, q in ATTRIBUTIONS])
def test_every_attributed_quotation_comes_from_its_task(where, tasks, quote):
    assert any(is_verbatim(quote, SECTIONS[t]) for t in tasks if t in SECTIONS), (
        f"{where}: 「{quote}」 is not in task(s) {tasks}")


@pytest.mark.parametrize("misquote", ["庄河、长海海上风电", "LNG动力船舶", "燃煤锅炉淘汰", "不再新增煤电",
                                      "重点耗能行业能效达到国内先进水平"])
def test_the_misquotes_of_issue_13_are_caught(misquote):
    assert not is_verbatim(misquote)


def test_ellipsis_and_width_rules():
    assert is_verbatim("严控…建设")  # 严控燃煤锅炉房建设 with words left out
    assert not is_verbatim("逐步减少直至禁止煤炭散烧…严控燃煤锅炉房建设")  # parts out of order
    assert is_verbatim("原则上不再新建燃煤电厂，确需建设的需经市政府同意后方可推进")  # full-width comma
    assert not is_verbatim("原则上不再新建燃煤电厂确需建设")  # punctuation dropped: not verbatim
