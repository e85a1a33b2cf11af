"""`bot.py cases import` on a large export: first import, unchanged re-import, 10 % changed.

A fresh SQLite database (migrated, content imported), BENCH_CASES rows (default 5,000) with
a second factor each, half dates of birth and half document digits, 20 followers per
changed case. Wall and CPU time per run. Anchors, in the same run: validating the file
alone (``parse_csv``) and hashing BENCH_CASES second factors, which is the floor of any
import that must tell whether a factor changed.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, save

ROWS = int(os.environ.get("BENCH_CASES", "5000"))
HEADER = "number,service,mission,status,factor,secret,lang,note,date\n"


def write(path: Path, changed_every: int = 0) -> None:
    lines = [HEADER]
    for i in range(ROWS):
        status = "ready" if changed_every and i % changed_every == 0 else "received"
        factor = ("dob", f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10}") if i % 2 \
            else ("doc4", f"{i % 10000:04d}")
        lines.append(f"BENCH-{i:06d},passport,DE,{status},{factor[0]},{factor[1]},"
                     f"{['kk', 'ru', 'en'][i % 3]},,2026-11-20\n")
    path.write_text("".join(lines), encoding="utf-8")


def timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)


async def main() -> dict[str, Any]:
    from sqlalchemy import insert, select

    from bot.answers.store import ContentStore, import_content
    from bot.cases.imports import import_cases, parse_csv
    from bot.cases.service import hash_factor
    from bot.config import Settings
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade
    from storage.models.cases import Case, CaseFollower

    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    factory = create_session_factory(engine)
    await import_content(factory, ROOT / "content")
    store = await ContentStore.load(factory)
    tz = Settings(_env_file=None).tz  # type: ignore[call-arg]
    same, changed = tmp / "same.csv", tmp / "changed.csv"
    write(same)
    write(changed, changed_every=10)
    out: dict[str, Any] = {"rows": ROWS}

    _, out["validate_only_wall_s"], out["validate_only_cpu_s"] = timed(
        lambda: parse_csv(same, store, tz))
    _, out["hash_anchor_wall_s"], out["hash_anchor_cpu_s"] = timed(
        lambda: [hash_factor("1990-05-17", "00" * 16) for _ in range(ROWS)])

    async def run(path: Path) -> tuple[str, float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        report = await import_cases(factory, store, path, tz)
        return report.line(), round(time.perf_counter() - wall, 2), \
            round(time.process_time() - cpu, 2)

    out["first"] = await run(same)
    out["unchanged"] = await run(same)
    async with factory() as session, session.begin():
        ids = list(await session.scalars(select(Case.id).order_by(Case.id)))
        await session.execute(insert(CaseFollower), [
            {"case_id": cid, "user_id": 10_000 + n, "lang": "kk"}
            for cid in ids[::10] for n in range(20)])
    out["ten_percent_changed"] = await run(changed)
    await engine.dispose()
    return out


if __name__ == "__main__":
    save("cases", asyncio.run(main()))
