"""Editors teach the bot: a question it could not answer (or one marked 👎) is filed under a
topic, or as out of scope, and becomes a training example of the topic model at once.

The database is the record: every taught example is a ``taught_examples`` row, and
:class:`Teacher` keeps the store's model in step with it: right after an editor teaches in
this process, and every :data:`SYNC_EVERY` seconds for examples taught through another
process. At start-up :func:`bot.answers.store.load_store` loads the store with every taught
example, so a restart keeps what was taught. ``content export`` writes them to
``content/taught.yaml`` and ``content import`` reads them back (:func:`export_taught`,
:func:`import_taught`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers.callbacks import TeachCb
from bot.answers.content import Section, dump_yaml
from bot.answers.store import ContentStore, taught_examples
from bot.answers.topic_model import OUT_OF_SCOPE
from bot.config import LANGUAGES
from bot.privacy.registry import Context, PersonalData
from bot.shared import audit
from bot.shared.callbacks import CALLBACK_DATA_LIMIT
from bot.shared.render import Button, Screenful
from bot.shared.textnorm import READ_CHARS, tokenize
from bot.shared.tghtml import quote
from bot.shared.translation import fmt_datetime
from bot.shared.translation import gettext as _
from storage.answers import ContentRepo, PendingDTO, TaughtDTO, TeachRepo

log = logging.getLogger(__name__)

SYNC_EVERY = 60.0  # seconds between looks for examples taught through another process
SUGGESTED = 3  # "this is topic …" buttons under a question
SHOWN_CHARS = 600  # of a question, on the editor's screen
TAUGHT_FILE = "taught.yaml"
AUDIT_ACTION = audit.Action.EXAMPLE_TAUGHT

Learned = tuple[str, str, str | None]  # (text, lang, topic slug or None: out of scope)


# --- the model in step with the database ------------------------------------------------


class Teacher:
    """Teaches the store what the database holds and the store has not learned yet.

    What the store learned is its ``taught`` list; the rows are compared with it as a
    multiset, so nothing is learned twice and nothing is missed, whichever process wrote it.
    """

    def __init__(self, store: ContentStore, factory: async_sessionmaker[AsyncSession]) -> None:
        self.store, self.factory = store, factory
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None

    async def sync(self) -> int:
        """Learn the examples not learned yet (the model is retrained off the event loop,
        no database connection held meanwhile); returns how many."""
        async with self._lock:
            rows = await taught_examples(self.factory)
            have = Counter(self.store.taught)
            new: list[Learned] = []
            for row in rows:
                key = (row.text, row.lang, row.topic)
                if have[key] > 0:
                    have[key] -= 1
                else:
                    new.append(key)
            if new:
                await self.store.learn(new)
                log.info("the topic model learned %d taught examples", len(new))
            return len(new)

    def refresh_soon(self, then: Callable[[], Awaitable[None]] | None = None) -> None:
        """Learn now, in the background (the editor's next press does not wait), then ``then``."""
        task = asyncio.create_task(self._refresh(then), name="teach-refresh")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refresh(self, then: Callable[[], Awaitable[None]] | None) -> None:
        try:
            await self.sync()
            if then is not None:
                await then()
        except Exception:
            log.exception("learning the taught examples failed")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(SYNC_EVERY)
            try:
                await self.sync()
            except Exception:
                log.exception("learning the taught examples failed")

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="teach-sync")

    async def stop(self) -> None:
        for task in [*self._tasks, *([self._loop_task] if self._loop_task else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# --- teaching -----------------------------------------------------------------------------


def suggestions(store: ContentStore, text: str, lang: str, skip: str | None = None) -> list[str]:
    """The likeliest topics of a question: the analyzer's pick and alternatives, then the
    topic model's next best; ``skip`` (the topic of an answer marked 👎) is left out."""
    analysis = store.index.analyze(text, lang=lang)
    ranked = [s for s in (analysis.topic, *analysis.alternatives) if s]
    model = store.index.model
    if model is not None:
        probs = model.probabilities(tokenize(text[:READ_CHARS]))
        ranked += sorted((c for c in probs if c != OUT_OF_SCOPE), key=lambda c: -probs[c])
    out: list[str] = []
    for slug in ranked:
        if slug in store.topics and slug != skip and slug not in out:
            out.append(slug)
    return out[:SUGGESTED]


async def teach(session: AsyncSession, store: ContentStore, question_id: int,
                topic: str | None, editor_id: int) -> TaughtDTO | None:
    """File a pending question under ``topic`` (None: out of scope), audited; None when the
    question is not (or no longer) waiting to be taught. The caller checks ``topic``."""
    repo = TeachRepo(session)
    item = await repo.pending_one(question_id)
    if item is None:
        return None
    taught = await repo.add(item.text, item.lang, topic, editor_id, item.question_id)
    if taught is not None:
        await audit.record(session, editor_id, AUDIT_ACTION, f"question:{question_id}",
                           topic=topic, lang=item.lang)
    return taught


async def page(session: AsyncSession, store: ContentStore, lang: str, tz: ZoneInfo, pos: int,
               note: str | None = None) -> Screenful:
    """The /unanswered list at position ``pos`` (kept within the list), or the empty screen."""
    repo = TeachRepo(session)
    total = await repo.pending_count()
    if total == 0:
        return empty_screen(note)
    pos = min(max(pos, 0), total - 1)
    [item] = await repo.pending(pos, 1)
    return item_screen(store, item, pos, total, lang, tz, note)


async def pick_screen(session: AsyncSession, store: ContentStore, question_id: int,
                      action: str, section: Section | None, lang: str,
                      tz: ZoneInfo) -> Screenful | None:
    """"Another topic…" (action "p": the sections), a ``section``'s topics ("s"), or back to
    the question ("v"); None when the question is no longer waiting."""
    repo = TeachRepo(session)
    item = await repo.pending_one(question_id)
    if item is None:
        return None
    if action == "p":
        return sections_screen(item)
    if section is not None:
        return topics_screen(store, item, section, lang)
    pos = await repo.position(item.question_id)
    return item_screen(store, item, pos, await repo.pending_count(), lang, tz)


async def file_under(session: AsyncSession, store: ContentStore, question_id: int,
                     topic: str | None, editor_id: int, lang: str,
                     tz: ZoneInfo) -> tuple[TaughtDTO, Screenful] | None:
    """Teach the question (:func:`teach`) and show the list where it was, with a note; None
    when the question is no longer waiting."""
    repo = TeachRepo(session)
    pos = await repo.position(question_id)
    taught = await teach(session, store, question_id, topic, editor_id)
    if taught is None:
        return None
    return taught, await page(session, store, lang, tz, pos, taught_note(store, taught, lang))


def answers_as(store: ContentStore, text: str, lang: str) -> str | None:
    """The topic the analyzer now gives the question confidently (None: no topic)."""
    a = store.analyze(text, lang=lang)
    return a.topic if a.topic and not a.unsure and not a.smalltalk else None


# --- screens (in the current locale: the editor's) ----------------------------------------


def _topic_name(store: ContentStore, slug: str | None, lang: str) -> str:
    if slug is None:
        return _("out of scope")
    topic = store.topics.get(slug)
    return quote(topic.title.get(lang)) if topic else quote(slug)


def _button(label: str, cb: TeachCb) -> Button | None:
    packed = f"{cb.prefix}:{cb.action}:{cb.qid}:{cb.arg}"
    return Button(label, cb.pack()) if len(packed.encode()) <= CALLBACK_DATA_LIMIT else None


def empty_screen(note: str | None = None) -> Screenful:
    text = _("Nothing to teach: every recent question was answered or has been taught.")
    return Screenful(f"{note}\n\n{text}" if note else text)


def item_screen(store: ContentStore, item: PendingDTO, pos: int, total: int, lang: str,
                tz: ZoneInfo, note: str | None = None) -> Screenful:
    """One question to teach, with "this is topic …", the picker and "out of scope"."""
    lines = [note, ""] if note else []
    lines.append(_("<b>Teach the bot</b> · {n} of {total}").format(n=pos + 1, total=total))
    where = [item.lang]
    if item.country:
        where.append(quote(store.country_name(item.country, lang)))
    where.append(fmt_datetime(item.created_at, lang, tz))
    lines.append(" · ".join(where))
    if item.disliked:
        lines.append(_("👎 on the answer “{topic}”").format(
            topic=_topic_name(store, item.topic, lang)))
    else:
        lines.append(_("❓ The bot did not understand it"))
    lines += [f"<i>“{quote(item.text[:SHOWN_CHARS])}”</i>", "",
              _("What is this question about?")]
    rows: list[list[Button]] = []
    for slug in suggestions(store, item.text, item.lang, skip=item.topic):
        b = _button(_("📌 {topic}").format(topic=store.topics[slug].title.get(lang)),
                    TeachCb(action="t", qid=item.question_id, arg=slug))
        if b is not None:
            rows.append([b])
    rows.append([Button(_("🗂 Another topic…"),
                        TeachCb(action="p", qid=item.question_id).pack())])
    rows.append([Button(_("🚫 Out of scope"), TeachCb(action="o", qid=item.question_id).pack())])
    pager = []
    if pos > 0:
        pager.append(Button(_("◀ Newer"), TeachCb(action="n", arg=str(pos - 1)).pack()))
    if pos + 1 < total:
        pager.append(Button(_("Older ▶"), TeachCb(action="n", arg=str(pos + 1)).pack()))
    if pager:
        rows.append(pager)
    return Screenful("\n".join(lines), rows)


def sections_screen(item: PendingDTO) -> Screenful:
    rows = [[Button(_("🛂 Consular services"),
                    TeachCb(action="s", qid=item.question_id, arg=Section.CONSULAR).pack())],
            [Button(_("🇰🇿 About Kazakhstan"),
                    TeachCb(action="s", qid=item.question_id, arg=Section.ABOUT).pack())],
            [Button(_("‹ Back"), TeachCb(action="v", qid=item.question_id).pack())]]
    return Screenful(_("<i>“{text}”</i>\n\nChoose the section, then the topic.").format(
        text=quote(item.text[:SHOWN_CHARS])), rows)


def topics_screen(store: ContentStore, item: PendingDTO, section: Section,
                  lang: str) -> Screenful:
    rows: list[list[Button]] = []
    for topic in store.section(section):
        b = _button(topic.title.get(lang), TeachCb(action="t", qid=item.question_id,
                                                   arg=topic.slug))
        if b is not None:
            rows.append([b])
    rows.append([Button(_("‹ Back"), TeachCb(action="p", qid=item.question_id).pack())])
    return Screenful(_("<i>“{text}”</i>\n\nWhich topic is it?").format(
        text=quote(item.text[:SHOWN_CHARS])), rows)


def taught_note(store: ContentStore, taught: TaughtDTO, lang: str) -> str:
    return _("✅ Taught: “{text}” is {topic}. The bot is learning it; I will write when it "
             "is done.").format(text=quote(taught.text[:80]),
                                topic=_topic_name(store, taught.topic, lang))


def learned_text(store: ContentStore, taught: TaughtDTO, lang: str) -> str:
    """After the model was refreshed: what the bot now makes of the taught question."""
    now = answers_as(store, taught.text, taught.lang)
    text = quote(taught.text[:80])
    if now == taught.topic and taught.topic is not None:
        return _("🎓 Learned: “{text}” is now answered with {topic}.").format(
            text=text, topic=_topic_name(store, now, lang))
    if now is None and taught.topic is None:
        return _("🎓 Learned: “{text}” is now treated as out of scope.").format(text=text)
    if now is None:
        return _("The example is saved, but the bot does not recognise “{text}” yet. A few "
                 "more examples of this kind will change that.").format(text=text)
    return _("The example is saved, but the bot still reads “{text}” as {topic}. A few more "
             "examples of this kind will change that.").format(
                 text=text, topic=_topic_name(store, now, lang))


def teach_button(pending: int) -> Button:
    """Under the weekly digest: opens the list."""
    return Button(_("🎓 Teach the bot ({count} questions)").format(count=pending),
                  TeachCb(action="l").pack())


# --- content export / import ------------------------------------------------------------


class _TaughtItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(min_length=1, max_length=READ_CHARS)]
    lang: str
    topic: str | None = None  # None: out of scope
    taught_at: datetime | None = None


class _TaughtFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    examples: list[_TaughtItem] = Field(default_factory=list)


@dataclass
class TaughtImport:
    added: int = 0
    unchanged: int = 0
    unknown_topic: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"taught examples: {self.added} added, {self.unchanged} unchanged"]
        out += [f"taught example skipped, no topic {t!r}" for t in self.unknown_topic]
        return out


async def export_taught(factory: async_sessionmaker[AsyncSession], root: Path) -> int:
    """``root/taught.yaml``: every taught example (text, language, topic, date), not who
    taught it nor the question it came from."""
    rows = await taught_examples(factory)
    data: dict[str, Any] = {"examples": [
        {"text": r.text, "lang": r.lang, "topic": r.topic,
         "taught_at": r.created_at.isoformat(timespec="seconds")} for r in rows]}
    _write(root / TAUGHT_FILE, dump_yaml(data))
    return len(rows)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def read_taught(root: Path) -> list[_TaughtItem]:
    """``root/taught.yaml`` validated (none: no file); ValueError names the problem."""
    path = root / TAUGHT_FILE
    if not path.exists():
        return []
    try:
        parsed = _TaughtFile.model_validate(yaml.safe_load(path.read_text("utf-8")) or {})
    except (yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    for item in parsed.examples:
        if item.lang not in LANGUAGES:
            raise ValueError(f"{path}: {item.text!r}: unknown language {item.lang!r}")
    return parsed.examples


async def topic_slugs(factory: async_sessionmaker[AsyncSession]) -> set[str]:
    async with factory() as session:
        return {r.key for r in await ContentRepo(session).topics()}


async def import_taught(factory: async_sessionmaker[AsyncSession], root: Path,
                        topics: set[str]) -> TaughtImport:
    """Add the examples of ``root/taught.yaml`` the database lacks (same text, language and
    topic count as the same); those naming a topic not in ``topics`` are skipped."""
    items = read_taught(root)
    report = TaughtImport()
    async with factory() as session, session.begin():
        repo = TeachRepo(session)
        have = Counter((r.text, r.lang, r.topic) for r in await repo.all())
        for item in items:
            key = (item.text.strip(), item.lang, item.topic)
            if item.topic is not None and item.topic not in topics:
                report.unknown_topic.append(item.topic)
                continue
            if have[key] > 0:
                have[key] -= 1
                report.unchanged += 1
                continue
            await repo.add(key[0], key[1], key[2], None)
            report.added += 1
    return report


# --- personal data ------------------------------------------------------------------------


async def _show(ctx: Context, user_id: int) -> list[str]:
    count = await TeachRepo(ctx.session).count_from_asker(user_id)
    if not count:
        return []
    return [_("{count} of your questions were filed under a topic by an editor to teach "
              "the bot. /forget_me keeps these examples as the bot's content, with no link "
              "to you.").format(count=count)]


async def _erase(session: AsyncSession, user_id: int) -> int:
    return await TeachRepo(session).unlink_asker(user_id)


def personal_data() -> list[PersonalData]:
    """Listed before the question log's entry: that one unlinks the questions this one
    looks up."""
    return [PersonalData(
        "taught_examples", lambda: _("Your questions the bot was taught with"), _show, _erase,
        erased_label=lambda: _("Your questions the bot was taught with: kept as examples, "
                               "no longer linked to you"))]
