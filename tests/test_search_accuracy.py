"""Accuracy of the question analyzer on questions as people type them.

Two sets written independently: ``questions.yaml`` (the analyzer was tuned on it) and
``questions_holdout.yaml`` (written later to show how it generalises). Each set on its own,
and their union, must meet the targets, so tuning for one set cannot hide a loss on the other.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.services.content import load_tree
from bot.services.search import QuestionIndex

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SETS = ("questions.yaml", "questions_holdout.yaml")

TOPIC_TARGET = 0.90
COUNTRY_TARGET = 0.95
LANG_TARGET = 0.98


@dataclass
class Outcome:
    item: dict
    lang: str
    topic: str | None
    country: str | None

    @property
    def group(self) -> str:
        lang = self.item["lang"]
        return f"kk/{self.item.get('script', '?')}" if lang == "kk" else lang

    @property
    def lang_ok(self) -> bool:
        return self.lang == self.item["lang"]

    @property
    def topic_ok(self) -> bool:
        return self.topic == self.item.get("topic")

    @property
    def country_ok(self) -> bool:
        return self.country == self.item.get("country")


@pytest.fixture(scope="module")
def by_set() -> dict[str, list[Outcome]]:
    missing = [name for name in SETS if not (DATA / name).exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} not in this checkout")
    bundle = load_tree(ROOT / "content")
    index = QuestionIndex.build(bundle.topics, bundle.countries)
    result: dict[str, list[Outcome]] = {}
    for name in SETS:
        items = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
        result[name] = []
        for item in items:
            a = index.analyze(item["q"])
            result[name].append(Outcome(item, a.lang, a.topic, a.country))
    return result


@pytest.fixture(scope="module", params=[*SETS, "union"])
def outcomes(request: pytest.FixtureRequest, by_set: dict[str, list[Outcome]]) -> list[Outcome]:
    if request.param == "union":
        return [o for name in SETS for o in by_set[name]]
    return by_set[request.param]


def _report(outcomes: list[Outcome], check: str) -> str:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[o.group].append(o)
    lines = ["group         n   lang  topic  country"]
    for name in sorted(groups):
        g = groups[name]
        n = len(g)
        lines.append(
            f"{name:<12}{n:>4}  {sum(o.lang_ok for o in g) / n:.3f}  "
            f"{sum(o.topic_ok for o in g) / n:.3f}  {sum(o.country_ok for o in g) / n:.3f}"
        )
    lines.append(f"misses ({check}):")
    for o in outcomes:
        if not getattr(o, f"{check}_ok"):
            want = o.item.get(check) if check != "lang" else o.item["lang"]
            got = getattr(o, check)
            lines.append(f"  [{o.group}] {o.item['q']!r}: expected {want}, got {got}")
    return "\n".join(lines)


def _accuracy(outcomes: list[Outcome], check: str) -> float:
    return sum(getattr(o, f"{check}_ok") for o in outcomes) / len(outcomes)


def test_topic_accuracy(outcomes: list[Outcome]) -> None:
    accuracy = _accuracy(outcomes, "topic")
    assert accuracy >= TOPIC_TARGET, f"topic {accuracy:.3f}\n" + _report(outcomes, "topic")


def test_country_accuracy(outcomes: list[Outcome]) -> None:
    accuracy = _accuracy(outcomes, "country")
    assert accuracy >= COUNTRY_TARGET, f"country {accuracy:.3f}\n" + _report(outcomes, "country")


def test_language_accuracy(outcomes: list[Outcome]) -> None:
    accuracy = _accuracy(outcomes, "lang")
    assert accuracy >= LANG_TARGET, f"language {accuracy:.3f}\n" + _report(outcomes, "lang")
