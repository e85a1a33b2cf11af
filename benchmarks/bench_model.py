"""The topic model on the real path: training, loading from the cache, answering, memory.

    python -m benchmarks benchmarks.bench_model

The shipped content is imported into a fresh SQLite database and loaded as ``bot.py ask``
loads it (``ContentStore.load``). Measured, CPU time beside wall time:

* training: the load with an empty cache (the index is built and both models are trained);
* loading: the load with a warm cache (the index is built, the models read from disk), and
  the models' files read alone;
* answering: every question of ``tests/data/questions.yaml`` and ``questions_styles.yaml``
  through :class:`AnswerService` (analysis and rendering), pinned to one core; the anchor is
  the same questions through the same store with the models taken out, in the same run;
* ``bot.py ask --json`` over those questions in a child process with the warm cache: its
  peak RSS and CPU seconds, and whether it imported scikit-learn (it must not).
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import ROOT, one_core, peak_rss_mb, save, summary_ms

PASSES = 3


def _questions() -> list[str]:
    out: list[str] = []
    for name in ("questions.yaml", "questions_styles.yaml"):
        path = ROOT / "tests" / "data" / name
        if path.exists():
            out += [item["q"] for item in yaml.safe_load(path.read_text("utf-8"))]
    return out


def _timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def _latency(answer: Any, qs: list[str]) -> list[float]:
    for q in qs[:50]:
        answer(q)  # warm-up
    gc.collect()
    samples: list[float] = []
    for _ in range(PASSES):
        for q in qs:
            t = time.process_time()
            answer(q)
            samples.append(time.process_time() - t)
    return samples


def main() -> None:
    one_core()
    from zoneinfo import ZoneInfo

    from bot.answers import topic_model
    from bot.answers.service import AnswerService
    from bot.answers.store import ContentStore, import_content
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade

    work = Path(tempfile.mkdtemp(prefix="bench-model-"))
    url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
    cache = work / "cache"
    upgrade(url)

    async def load() -> ContentStore:
        engine = create_engine(url)
        try:
            return await ContentStore.load(create_session_factory(engine), cache_dir=cache)
        finally:
            await engine.dispose()

    async def seed() -> None:
        engine = create_engine(url)
        try:
            await import_content(create_session_factory(engine), ROOT / "content")
        finally:
            await engine.dispose()

    asyncio.run(seed())
    cold, train_cpu, train_wall = _timed(lambda: asyncio.run(load()))
    store, load_cpu, load_wall = _timed(lambda: asyncio.run(load()))
    key = store.index.model.key
    lang_key = store.index.lang_model.key
    _, files_cpu, files_wall = _timed(lambda: (
        topic_model.TopicModel.load(cache / topic_model.CACHE_NAME, key),
        topic_model.TopicModel.load(cache / topic_model.LANG_CACHE_NAME, lang_key)))
    sizes = {p.name: round(p.stat().st_size / 1e6, 2) for p in cache.glob("*.npz")}
    del cold

    qs = _questions()
    tz = ZoneInfo("Asia/Almaty")
    fused = _latency(AnswerService(store, tz).answer, qs)
    bare = ContentStore.__new__(ContentStore)
    bare.__dict__.update(store.__dict__)
    bare.index = store.index.with_model(None)
    bare.index.lang_model = None
    anchor = _latency(AnswerService(bare, tz).answer, qs)
    rss_in_process = peak_rss_mb()

    env = dict(os.environ, DATABASE_URL=url, CACHE_DIR=str(cache), PYTHONPATH=str(ROOT))
    # The child reports its own high-water mark (VmHWM): ru_maxrss of a forked child counts
    # the parent's pages it shared before exec.
    probe = ("import atexit, runpy, sys; sys.argv = ['bot.py', 'ask', '--json']; "
             "atexit.register(lambda: print('sklearn' in sys.modules, [l.split()[1] for l in "
             "open('/proc/self/status') if l.startswith('VmHWM')][0], file=sys.stderr)); "
             "runpy.run_path('bot.py', run_name='__main__')")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.run([sys.executable, "-c", probe], input="\n".join(qs), text=True,
                           capture_output=True, cwd=ROOT, env=env)
    child_wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    answered = sum(1 for line in child.stdout.splitlines() if line.startswith("{"))
    report = child.stderr.strip().splitlines()[-1].split()
    save("model", {
        "topics": len(store.topics),
        "classes": len(store.index.model.classes),
        "features": len(store.index.model.vocab),
        "cache_files_mb": sizes,
        "train_cpu_s": round(train_cpu, 2), "train_wall_s": round(train_wall, 2),
        "load_warm_cpu_s": round(load_cpu, 2), "load_warm_wall_s": round(load_wall, 2),
        "model_files_cpu_s": round(files_cpu, 3), "model_files_wall_s": round(files_wall, 3),
        "questions": len(qs) * PASSES,
        "fused_cpu": summary_ms(fused),
        "index_alone_cpu": summary_ms(anchor),
        "peak_rss_in_process_mb": rss_in_process,
        "ask_child": {
            "returncode": child.returncode,
            "answered": answered,
            "cpu_s": round((after.ru_utime + after.ru_stime)
                           - (before.ru_utime + before.ru_stime), 2),
            "wall_s": round(child_wall, 2),
            "peak_rss_mb": round(int(report[1]) / 1024, 1),
            "imported_sklearn": report[0] == "True",
        },
        "python": sys.version.split()[0],
    })


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
