"""What the urgency cues add to a question: ``urgency.assess`` over the evaluation sets'
questions (already tokenized, as the analyzer hands them over) and over a 1,000-character
message, beside the anchor of tokenizing the same text in the same run.

    python -m benchmarks benchmarks.bench_urgency
"""

from __future__ import annotations

import time
from collections.abc import Callable

import yaml

from benchmarks.common import ROOT, one_core, percentile, save
from bot.answers.urgency import assess
from bot.shared.textnorm import tokenize

ROUNDS = 5


def _texts() -> list[str]:
    out: list[str] = []
    for name in ("questions.yaml", "questions_styles.yaml"):
        items = yaml.safe_load((ROOT / "tests" / "data" / name).read_text("utf-8"))
        out.extend(item["q"] for item in items)
    return out


def _per_call(fn: Callable[[], object], calls: int) -> tuple[float, float]:
    """Best-of-rounds wall and CPU microseconds per call."""
    wall, cpu = [], []
    for _ in range(ROUNDS):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - w) / calls * 1e6)
        cpu.append((time.process_time() - c) / calls * 1e6)
    return round(min(wall), 1), round(min(cpu), 1)


def main() -> None:
    one_core()
    texts = _texts()
    tokens = [tokenize(t) for t in texts]
    long_text = " ".join(texts)[:1000]
    long_tokens = tokenize(long_text)
    singles = []
    for text, toks in zip(texts, tokens, strict=True):
        start = time.perf_counter()
        assess(text, toks)
        singles.append((time.perf_counter() - start) * 1e6)
    assess_wall, assess_cpu = _per_call(
        lambda: [assess(t, k) for t, k in zip(texts, tokens, strict=True)], len(texts))
    tok_wall, tok_cpu = _per_call(lambda: [tokenize(t) for t in texts], len(texts))
    long_wall, long_cpu = _per_call(lambda: [assess(long_text, long_tokens)
                                             for _ in range(100)], 100)
    save("urgency", {
        "questions": len(texts),
        "assess_us": {"wall": assess_wall, "cpu": assess_cpu,
                      "p99_wall": round(percentile(singles, 0.99), 1)},
        "anchor_tokenize_us": {"wall": tok_wall, "cpu": tok_cpu},
        "long_message_us": {"words": len(long_tokens), "wall": long_wall, "cpu": long_cpu},
    })


if __name__ == "__main__":
    main()
