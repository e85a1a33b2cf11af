"""Score the question analyzer on an evaluation set that nobody tunes on.

    python -m benchmarks.bench_holdout [tests/data/questions_fresh.yaml]

The set is written by someone who saw only the topic list and one line on each topic; it is
scored once before the analyzer's tuning and once after (both figures in benchmarks/README.md),
never used to tune. The analyzer is the one the bot answers with (``ContentStore.index``, built
from the shipped content). Prints accuracy overall and by slice: language, Kazakh script, style;
urgent questions that lead with an urgent topic; out-of-scope questions that got a confident topic.
Only figures are printed, never the items, so reading the output cannot leak the set.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from bot.answers.store import ContentStore

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "tests" / "data" / "questions_fresh.yaml"
URGENT_TOPICS = {"emergency-help", "death-abroad"}


def _first_topic(a: Any) -> str | None:
    """The topic the answer leads with: an urgent lead when the analyzer has one."""
    return getattr(a, "urgent", None) or a.topic


def _confident(a: Any) -> bool:
    return a.topic is not None and not a.unsure


def score(path: Path) -> dict[str, Any]:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    store = ContentStore.from_files(ROOT / "content")
    slices: dict[str, list[bool]] = defaultdict(list)
    country: list[bool] = []
    lang: list[bool] = []
    urgent: list[bool] = []
    out_of_scope: list[bool] = []
    for item in items:
        a = store.index.analyze(item["q"])
        ok = a.topic == item.get("topic")
        slices["all"].append(ok)
        slices[f"lang:{item['lang']}"].append(ok)
        if item["lang"] == "kk":
            slices[f"kk:{item.get('script', '?')}"].append(ok)
        slices[f"style:{item.get('style', '?')}"].append(ok)
        country.append(a.country == item.get("country"))
        lang.append(a.lang == item["lang"])
        if item.get("urgent"):
            urgent.append(_first_topic(a) in URGENT_TOPICS)
        if item.get("topic") is None and item.get("style") in ("smalltalk", "outofscope"):
            out_of_scope.append(_confident(a))
    return {
        "items": len(items),
        "topic": {k: (sum(v) / len(v), len(v)) for k, v in sorted(slices.items())},
        "country": sum(country) / len(country),
        "language": sum(lang) / len(lang),
        "urgent_led": (sum(urgent), len(urgent)),
        "out_of_scope_confident": (sum(out_of_scope), len(out_of_scope)),
    }


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    result = score(path)
    print(f"{path.name}: {result['items']} questions")
    for name, (acc, n) in result["topic"].items():
        print(f"  topic {name:<18} {acc:.3f}  (n={n})")
    print(f"  country {result['country']:.3f}   language {result['language']:.3f}")
    led, n = result["urgent_led"]
    print(f"  urgent questions led by an urgent topic: {led}/{n}")
    conf, n = result["out_of_scope_confident"]
    print(f"  small talk / out of scope with a confident topic: {conf}/{n}")


if __name__ == "__main__":
    main()
