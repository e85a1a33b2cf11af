"""The content store: import files into the database, export them back, load into memory.

The bot answers from an in-memory :class:`ContentStore` built once from the database;
``content import`` is idempotent (records whose digest did not change are left alone).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from babel import Locale
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers import topic_model
from bot.answers.analysis import Analysis, QuestionIndex
from bot.answers.content import (
    LANGS,
    OUT_OF_SCOPE_FILE,
    Country,
    OutOfScope,
    Section,
    Topic,
    dump_yaml,
    example_key,
    load_tree,
)
from bot.answers.topic_model import TopicModel
from bot.errors import StartupError
from bot.places.service import PlaceIndex
from storage.answers import ContentRepo, TaughtDTO, TeachRepo


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


OUT_OF_SCOPE_DOC = OUT_OF_SCOPE_FILE.removesuffix(".yaml")  # its key in content_documents


async def import_content(
    session_factory: async_sessionmaker[AsyncSession], root: Path, today: date | None = None,
) -> ImportReport:
    """Validate the whole tree first, then apply it in one transaction; a changed advisory
    level queues its change message for followers and travellers in the same transaction."""
    from bot.travel.advice import level_changes, queue_level_changes

    bundle = load_tree(root)
    report = ImportReport()
    async with session_factory() as session, session.begin():
        repo = ContentRepo(session)
        stored_topics = {r.key: r.digest for r in await repo.topics()}
        country_records = await repo.countries()
        stored_countries = {r.key: r.digest for r in country_records}
        changes = level_changes({r.key: r.data for r in country_records}, bundle.countries)
        stored_docs = {r.key: r.digest for r in await repo.documents()}
        documents: dict[str, dict[str, Any]] = {}
        if bundle.out_of_scope is not None:
            documents[OUT_OF_SCOPE_DOC] = bundle.out_of_scope.model_dump(mode="json")

        puts: tuple[tuple[str, Mapping[str, dict[str, Any]], dict[str, str],
                          Callable[[str, dict[str, Any], str], Awaitable[None]]], ...] = (
            ("topic", {k: _document(m) for k, m in bundle.topics.items()}, stored_topics,
             lambda _key, doc, dig: repo.put_topic(doc, dig)),
            ("country", {k: _document(m) for k, m in bundle.countries.items()},
             stored_countries, lambda _key, doc, dig: repo.put_country(doc, dig)),
            ("document", documents, stored_docs, repo.put_document),
        )
        for kind, items, stored, put in puts:
            for key, doc in items.items():
                dig = digest(doc)
                if key not in stored:
                    report.added.append(f"{kind} {key}")
                elif stored[key] != dig:
                    report.changed.append(f"{kind} {key}")
                else:
                    report.unchanged += 1
                    continue
                await put(key, doc, dig)
        gone_docs = sorted(set(stored_docs) - set(documents))
        await repo.remove_documents(gone_docs)
        report.removed += [f"document {k}" for k in gone_docs]
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
        documents = await repo.documents()
    (root / "topics").mkdir(parents=True, exist_ok=True)
    (root / "countries").mkdir(parents=True, exist_ok=True)
    for rec in topics:
        (root / "topics" / f"{rec.key}.yaml").write_text(
            dump_yaml(_file_form(rec.data)), encoding="utf-8")
    for rec in countries:
        path = root / "countries" / f"{rec.key.lower()}.yaml"
        path.write_text(dump_yaml(_file_form(rec.data)), encoding="utf-8")
    for rec in documents:
        (root / f"{rec.key}.yaml").write_text(dump_yaml(dict(rec.data)), encoding="utf-8")
    return len(topics) + len(countries) + len(documents)


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


Taught = Sequence[tuple[str, str, str | None]]  # (text, lang, topic slug or None: out of scope)
_TAG = re.compile(r"<[^>]+>")


class ContentStore:
    """Everything the bot answers from, in memory, with the question analyzer over it: the
    stem index and the topic model trained on the examples (``index.model``)."""

    def __init__(
        self,
        topics: Mapping[str, Topic],
        countries: Mapping[str, Country],
        out_of_scope: OutOfScope | None = None,
        *,
        taught: Taught = (),
        cache_dir: Path | None = None,
    ) -> None:
        self.topics: dict[str, Topic] = dict(
            sorted(topics.items(), key=lambda kv: (kv[1].order, kv[0]))
        )
        self.countries: dict[str, Country] = dict(countries)
        self.out_of_scope = out_of_scope
        self.cache_dir = cache_dir
        self._taught: tuple[tuple[str, str, str | None], ...] = tuple(taught)
        self._recall = _taught_memory(self._taught)
        self._learning = asyncio.Lock()
        self.index = QuestionIndex.build(self.topics, self.countries)
        self.index.model, self.index.lang_model = self._train(self._taught)
        self.places = PlaceIndex.build(self.countries)
        self._names: dict[str, dict[str, str]] = {
            lang: {iso: Locale(lang).territories.get(iso, iso) for iso in self.countries}
            for lang in LANGS
        }

    # -- the topic model --
    def samples(self, taught: Taught = ()) -> list[tuple[str, str]]:
        """What the topic model learns from: each topic's examples, title, keywords and
        summary in every language, the out-of-scope examples, and the taught examples (those
        naming a topic the store no longer has are left out)."""

        def texts(topic: Topic) -> Iterator[str]:
            if topic.examples is not None:
                for _, text in topic.examples.all():
                    yield text
            for lang in LANGS:
                yield _TAG.sub(" ", topic.title.get(lang))
                yield from topic.keywords.get(lang)
                yield _TAG.sub(" ", topic.summary.get(lang))

        out_of_scope = (
            [t for _, t in self.out_of_scope.examples.all()] if self.out_of_scope else [])
        samples = topic_model.iter_samples(
            ((slug, texts(t)) for slug, t in self.topics.items()), out_of_scope)
        for text, _lang, slug in taught:
            if slug is None:
                samples.append((text, topic_model.OUT_OF_SCOPE))
            elif slug in self.topics:
                samples.append((text, slug))
        return samples

    def language_samples(self, taught: Taught = ()) -> list[tuple[str, str]]:
        """What the language model learns from: every text a person might type, by the
        language it is written in (each once: a large store repeats itself)."""
        samples: dict[tuple[str, str], None] = {}
        for topic in self.topics.values():
            if topic.examples is not None:
                samples.update(((text, lang), None) for lang, text in topic.examples.all())
            for lang in LANGS:
                samples[_TAG.sub(" ", topic.title.get(lang)), lang] = None
                samples[_TAG.sub(" ", topic.summary.get(lang)), lang] = None
        if self.out_of_scope is not None:
            samples.update(((text, lang), None) for lang, text in self.out_of_scope.examples.all())
        samples.update(((text, lang), None) for text, lang, _ in taught if lang in LANGS)
        return list(samples)

    def _train(self, taught: Taught) -> tuple[TopicModel | None, TopicModel | None]:
        """The topic and language models. They read words as the index gives them (country
        names left out), so the countries are part of the cache key."""
        salt = digest({iso: _document(c)["aliases"] for iso, c in self.countries.items()})
        words = self.index.model_words
        trainable = len(self.topics) < topic_model.MAX_CLASSES  # else not even its samples
        return (
            topic_model.obtain(self.samples(taught), self.cache_dir, words, salt)
            if trainable else None,
            topic_model.obtain(self.language_samples(taught), self.cache_dir,
                               self.index.language_words, "",
                               name=topic_model.LANG_CACHE_NAME.removesuffix(".npz"),
                               c=topic_model.LANG_C),
        )

    @property
    def taught(self) -> tuple[tuple[str, str, str | None], ...]:
        return self._taught

    async def learn(self, examples: Sequence[tuple[str, str, str | None]]) -> None:
        """Add taught examples, (text, lang, topic slug or None for out of scope), and
        retrain the topic model off the event loop; questions are answered by the old model
        until the new one is swapped in whole. Concurrent calls are applied one after the
        other, none lost."""
        if not examples:
            return
        async with self._learning:
            taught = self._taught + tuple((t, lang, slug) for t, lang, slug in examples)
            model, lang_model = await asyncio.to_thread(self._train, taught)
            self._taught = taught
            self.index = self.index.with_model(model, lang_model)
            self._recall = _taught_memory(taught)

    def analyze(self, text: str, lang: str | None = None, reader: str | None = None) -> Analysis:
        """The analyzer's reading of a question, except that a question an editor taught
        (the same words, compared by :func:`example_key`) gets the topic the editor chose, or
        none for out of scope: the model generalises from an example, this makes sure the
        very question taught is answered as taught."""
        a = self.index.analyze(text, lang=lang, reader=reader)
        key = example_key(text) if self._recall else ""
        if key not in self._recall:
            return a
        slug = self._recall[key]
        if slug is not None and slug not in self.topics:
            return a
        if slug is None:
            return Analysis(a.lang, None, a.country, 0.0, (), None)
        rest = tuple(s for s in (a.topic, *a.alternatives) if s and s != slug)
        return Analysis(a.lang, slug, a.country, 1.0, rest, None)

    @classmethod
    async def load(
        cls,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        taught: Taught = (),
        cache_dir: Path | None = None,
    ) -> ContentStore:
        async with session_factory() as session:
            repo = ContentRepo(session)
            topics, countries = await repo.topics(), await repo.countries()
            documents = {r.key: r.data for r in await repo.documents()}
        try:
            out_of_scope = (OutOfScope.model_validate(documents[OUT_OF_SCOPE_DOC])
                            if OUT_OF_SCOPE_DOC in documents else None)
            return cls(
                {r.key: Topic.model_validate(r.data) for r in topics},
                {r.key: Country.model_validate(r.data) for r in countries},
                out_of_scope,
                taught=taught,
                cache_dir=cache_dir,
            )
        except ValidationError as exc:
            raise ContentOutdated(
                f"the content in the database does not fit this version ({exc.errors()[0]['loc']}"
                f"): run `python bot.py content import`"
            ) from exc

    @classmethod
    def from_files(
        cls, root: Path, *, taught: Taught = (), cache_dir: Path | None = None
    ) -> ContentStore:
        bundle = load_tree(root)
        return cls(bundle.topics, bundle.countries, bundle.out_of_scope,
                   taught=taught, cache_dir=cache_dir)

    def section(self, section: Section) -> list[Topic]:
        return [t for t in self.topics.values() if t.section == section]

    def country_name(self, iso: str, lang: str) -> str:
        return self._names.get(lang, self._names["en"]).get(iso, iso)

    def countries_sorted(self, lang: str) -> list[str]:
        """ISO codes in the alphabetical order of the names in ``lang``."""
        names = self._names.get(lang, self._names["en"])
        return sorted(self.countries, key=lambda iso: alphabet_key(names[iso], lang))


def _taught_memory(taught: Taught) -> dict[str, str | None]:
    """Taught questions by their words' keys; the latest teaching of a question wins."""
    return {example_key(text): slug for text, _lang, slug in taught if example_key(text)}


async def taught_examples(factory: async_sessionmaker[AsyncSession]) -> list[TaughtDTO]:
    async with factory() as session:
        return await TeachRepo(session).all()


async def load_store(factory: async_sessionmaker[AsyncSession],
                     cache_dir: Path | None) -> ContentStore:
    """The content store, its topic model trained with every taught example too."""
    taught = [(t.text, t.lang, t.topic) for t in await taught_examples(factory)]
    return await ContentStore.load(factory, taught=taught, cache_dir=cache_dir)
