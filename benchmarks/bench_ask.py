"""(a) The ``ask`` path over a store scaled up to 10,000 articles, on one core.

The real topics are joined by synthetic ones made from them (new slugs, the same kind of
keywords and bodies mixed with words drawn from the whole store), so posting lists grow as
they would in a large store. Every question of ``tests/data/questions.yaml`` is answered
through :class:`AnswerService` (analysis and rendering, exactly what ``bot.py ask`` runs).
Targets: p99 ≤ 10 ms, peak memory ≤ 200 MB.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from pathlib import Path

from benchmarks.common import ROOT, one_core, peak_rss_mb, questions, save, summary_ms

ARTICLES = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
PASSES = 3


def scaled_topics(n: int, seed: int = 7) -> dict[str, object]:
    from bot.answers.content import LANGS, Words, load_tree

    bundle = load_tree(ROOT / "content")
    real = list(bundle.topics.values())
    rng = random.Random(seed)
    vocab = {
        lang: sorted({w for t in real for w in t.body.get(lang).split()
                      if w.isalpha() and len(w) > 4})
        for lang in LANGS
    }
    topics: dict[str, object] = dict(bundle.topics)
    i = 0
    while len(topics) < n:
        template = real[i % len(real)]
        i += 1
        words = {
            lang: rng.sample(template.keywords.get(lang),
                             k=max(1, len(template.keywords.get(lang)) // 2))
            + [" ".join(rng.sample(vocab[lang], 2)) for _ in range(6)]
            for lang in LANGS
        }
        slug = f"{template.slug}-s{i}"
        topics[slug] = template.model_copy(update={
            "slug": slug, "related": [], "keywords": Words(**words),
        })
    return topics


def main() -> None:
    one_core()
    from zoneinfo import ZoneInfo

    from bot.answers.content import load_tree
    from bot.answers.service import AnswerService
    from bot.answers.store import ContentStore

    base_rss = peak_rss_mb()
    started = time.perf_counter()
    topics = scaled_topics(ARTICLES)
    countries = load_tree(ROOT / "content").countries
    store = ContentStore(topics, countries)  # type: ignore[arg-type]
    build_s = time.perf_counter() - started
    answers = AnswerService(store, ZoneInfo("Asia/Almaty"))
    qs = [q["q"] for q in questions()]
    for q in qs[:50]:
        answers.answer(q)  # warm-up
    gc.collect()
    samples: list[float] = []
    begin = time.perf_counter()
    for _ in range(PASSES):
        for q in qs:
            t = time.perf_counter()
            answers.answer(q)
            samples.append(time.perf_counter() - t)
    wall = time.perf_counter() - begin
    save("ask", {
        "articles": len(store.topics),
        "questions": len(samples),
        "answers_per_s": round(len(samples) / wall, 1),
        **summary_ms(samples),
        "index_build_s": round(build_s, 2),
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_store_mb": base_rss,
        "python": sys.version.split()[0],
    })


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
