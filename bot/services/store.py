"""The content store: import files into the database, export them back, load into memory.

The bot answers from an in-memory :class:`ContentStore` built once from the database;
``content import`` is idempotent (records whose digest did not change are left alone).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from babel import Locale
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import StartupError
from bot.services.content import LANGS, Country, Section, Topic, dump_yaml, load_tree
from bot.services.places import PlaceIndex
from bot.services.search import QuestionIndex
from storage.repositories import ContentRepo


def digest(data: Mapping[str, Any]) -> str:
    raw = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def _document(model: Topic | Country) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_defaults=False)


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    advisories: list[str] = field(default_factory=list)  # level changes: "DE 1→2"
    queued: int = 0  # change messages queued for the running bot

    @property
    def touched(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def lines(self) -> list[str]:
        out = []
        for label, items in (("added", self.added), ("changed", self.changed),
                             ("removed", self.removed)):
            out.append(f"{label}: {len(items)}" + (f" ({', '.join(items)})" if items else ""))
        out.append(f"unchanged: {self.unchanged}")
        if self.advisories:
            out.append(f"advisory levels changed: {', '.join(self.advisories)} "
                       f"({self.queued} change messages queued)")
        return out


async def import_content(
    session_factory: async_sessionmaker[AsyncSession], root: Path, today: date | None = None,
) -> ImportReport:
    """Validate the whole tree first, then apply it in one transaction; a changed advisory
    level queues its change message for followers and travellers in the same transaction."""
    from bot.services.advice import level_changes, queue_level_changes

    bundle = load_tree(root)
    report = ImportReport()
    async with session_factory() as session, session.begin():
        repo = ContentRepo(session)
        stored_topics = {r.key: r.digest for r in await repo.topics()}
        country_records = await repo.countries()
        stored_countries = {r.key: r.digest for r in country_records}
        changes = level_changes({r.key: r.data for r in country_records}, bundle.countries)
        for kind, items, stored, put in (
            ("topic", bundle.topics, stored_topics, repo.put_topic),
            ("country", bundle.countries, stored_countries, repo.put_country),
        ):
            for key, model in items.items():
                doc = _document(model)
                dig = digest(doc)
                if key not in stored:
                    report.added.append(f"{kind} {key}")
                elif stored[key] != dig:
                    report.changed.append(f"{kind} {key}")
                else:
                    report.unchanged += 1
                    continue
                await put(doc, dig)
        gone_topics = sorted(set(stored_topics) - set(bundle.topics))
        gone_countries = sorted(set(stored_countries) - set(bundle.countries))
        await repo.remove_topics(gone_topics)
        await repo.remove_countries(gone_countries)
        report.removed += [f"topic {k}" for k in gone_topics]
        report.removed += [f"country {k}" for k in gone_countries]
        queued = await queue_level_changes(session, changes, bundle.countries,
                                           today or datetime.now(UTC).date())
        report.advisories = [f"{c.iso} {c.old}→{c.new}" for c in changes]
        report.queued = len(queued)
    return report


class ContentOutdated(StartupError):
    """The database holds content written under an older schema."""


def _file_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document as its file is written: the review date as a YAML date, the way an
    editor types it (``reviewed: 2026-11-20``), not as a quoted string."""
    out = dict(data)
    if isinstance(out.get("reviewed"), str):
        out["reviewed"] = date.fromisoformat(out["reviewed"])
    return out


async def export_content(session_factory: async_sessionmaker[AsyncSession], root: Path) -> int:
    async with session_factory() as session:
        repo = ContentRepo(session)
        topics, countries = await repo.topics(), await repo.countries()
    (root / "topics").mkdir(parents=True, exist_ok=True)
    (root / "countries").mkdir(parents=True, exist_ok=True)
    for rec in topics:
        (root / "topics" / f"{rec.key}.yaml").write_text(
            dump_yaml(_file_form(rec.data)), encoding="utf-8")
    for rec in countries:
        path = root / "countries" / f"{rec.key.lower()}.yaml"
        path.write_text(dump_yaml(_file_form(rec.data)), encoding="utf-8")
    return len(topics) + len(countries)


KK_ALPHABET = "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя"
_KK_ORDER = {ch: i for i, ch in enumerate(KK_ALPHABET)}


def alphabet_key(name: str, lang: str) -> tuple[int, ...] | str:
    """Sort key following the Kazakh alphabet for kk (ә after а, not after я)."""
    text = name.casefold()
    if lang != "kk":
        return text.replace("ё", "е")
    return tuple(_KK_ORDER.get(ch, 100 + ord(ch)) for ch in text)


def first_letter(name: str) -> str:
    return name[:1].upper()


class ContentStore:
    """Everything the bot answers from, in memory, with the question index over it."""

    def __init__(
        self,
        topics: Mapping[str, Topic],
        countries: Mapping[str, Country],
    ) -> None:
        self.topics: dict[str, Topic] = dict(
            sorted(topics.items(), key=lambda kv: (kv[1].order, kv[0]))
        )
        self.countries: dict[str, Country] = dict(countries)
        self.index = QuestionIndex.build(self.topics, self.countries)
        self.places = PlaceIndex.build(self.countries)
        self._names: dict[str, dict[str, str]] = {
            lang: {iso: Locale(lang).territories.get(iso, iso) for iso in self.countries}
            for lang in LANGS
        }

    @classmethod
    async def load(cls, session_factory: async_sessionmaker[AsyncSession]) -> ContentStore:
        async with session_factory() as session:
            repo = ContentRepo(session)
            topics, countries = await repo.topics(), await repo.countries()
        try:
            return cls(
                {r.key: Topic.model_validate(r.data) for r in topics},
                {r.key: Country.model_validate(r.data) for r in countries},
            )
        except ValidationError as exc:
            raise ContentOutdated(
                f"the content in the database does not fit this version ({exc.errors()[0]['loc']}"
                f"): run `python bot.py content import`"
            ) from exc

    @classmethod
    def from_files(cls, root: Path) -> ContentStore:
        bundle = load_tree(root)
        return cls(bundle.topics, bundle.countries)

    def section(self, section: Section) -> list[Topic]:
        return [t for t in self.topics.values() if t.section == section]

    def country_name(self, iso: str, lang: str) -> str:
        return self._names.get(lang, self._names["en"]).get(iso, iso)

    def countries_sorted(self, lang: str) -> list[str]:
        """ISO codes in the alphabetical order of the names in ``lang``."""
        names = self._names.get(lang, self._names["en"])
        return sorted(self.countries, key=lambda iso: alphabet_key(names[iso], lang))
