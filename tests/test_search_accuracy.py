"""Accuracy of the question analyzer on the evaluation set of questions as people type them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.services.content import load_tree
from bot.services.search import QuestionIndex

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "questions.yaml"

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
def outcomes() -> list[Outcome]:
    if not QUESTIONS.exists():
        pytest.skip(f"{QUESTIONS.relative_to(ROOT)} is not in this checkout")
    items = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    bundle = load_tree(ROOT / "content")
    index = QuestionIndex.build(bundle.topics, bundle.countries)
    result = []
    for item in items:
        a = index.analyze(item["q"])
        result.append(Outcome(item, a.lang, a.topic, a.country))
    return result


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
