"""What the bot holds about a person, in one registry: /my_data shows it, /forget_me erases it.

Each feature that stores personal data exposes its :class:`PersonalData` entries (a
``personal_data()`` function beside its service) with two functions over the update's
session: ``show`` returns the lines the person reads (already translated and HTML-escaped)
and ``erase`` deletes the rows and returns how many went. ``bot.factory`` builds one
:class:`PrivacyRegistry` from them, in the order /my_data shows them, and hands it to the
handlers. Erasure runs every entry in one transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.answers.store import ContentStore
from bot.config import LANGUAGE_NAMES
from bot.shared.tghtml import quote
from bot.shared.translation import gettext as _
from bot.travel.journeys import journey_lines
from bot.travel.trips import format_trip
from storage.models.answers import UnansweredQuestion
from storage.models.people import User
from storage.models.publishing import ChatRow, Delivery, NewsSubscription
from storage.models.travel import TripCompanion
from storage.travel.journeys import JourneyRepo
from storage.travel.travellers import FollowRepo, GroupRepo, TripRepo

Show = Callable[["Context", int], Awaitable[list[str]]]
Erase = Callable[[AsyncSession, int], Awaitable[int]]


@dataclass(frozen=True)
class Context:
    """What ``show`` functions may use to render: the session, the content, the language."""

    session: AsyncSession
    store: ContentStore
    lang: str
    tz: ZoneInfo


@dataclass(frozen=True)
class PersonalData:
    key: str
    label: Callable[[], str]  # translated at render time
    show: Show
    erase: Erase
    erased_label: Callable[[], str] | None = None  # in the /forget_me report, if not label


@dataclass(frozen=True)
class Section:
    label: str
    lines: list[str]


class PrivacyRegistry:
    """Every feature's :class:`PersonalData`, in the order they are shown and erased."""

    def __init__(self, entries: Iterable[PersonalData]) -> None:
        self._entries = {entry.key: entry for entry in entries}

    def entries(self) -> list[PersonalData]:
        return list(self._entries.values())

    async def collect(self, ctx: Context, user_id: int) -> list[Section]:
        """Everything held about the person, by section; empty sections are left out."""
        out = []
        for entry in self._entries.values():
            lines = await entry.show(ctx, user_id)
            if lines:
                out.append(Section(entry.label(), lines))
        return out

    async def erase(self, session: AsyncSession, user_id: int) -> dict[str, int]:
        """Erase the person from every table: key → rows removed (zeros left out)."""
        removed = {}
        for entry in self._entries.values():
            count = await entry.erase(session, user_id)
            if count:
                removed[entry.key] = count
        return removed

    def labels(self, keys: list[str]) -> list[str]:
        """What each erased entry is called in the /forget_me report."""
        known = self._entries
        return [(known[k].erased_label or known[k].label)() for k in keys if k in known]


# --- what the citizen assistant and the travellers' features hold ------------------------


async def _show_user(ctx: Context, user_id: int) -> list[str]:
    row = await ctx.session.get(User, user_id)
    if row is None:
        return []
    lines = [_("Telegram id: {id}").format(id=row.id)]
    if row.language:
        lines.append(_("Chosen language: {lang}").format(
            lang=LANGUAGE_NAMES.get(row.language, row.language)))
    if row.telegram_language:
        lines.append(_("Language your Telegram reports: {lang}").format(
            lang=LANGUAGE_NAMES.get(row.telegram_language, row.telegram_language)))
    return lines


async def _erase_user(session: AsyncSession, user_id: int) -> int:
    result = await session.execute(delete(User).where(User.id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _show_news(ctx: Context, user_id: int) -> list[str]:
    row = await ctx.session.get(NewsSubscription, user_id)
    if row is None:
        return []
    state = _("active") if row.active else _("paused")
    return [_("News in {lang}: {state}").format(
        lang=LANGUAGE_NAMES.get(row.language, row.language), state=state)]


async def _erase_news(session: AsyncSession, user_id: int) -> int:
    result = await session.execute(
        delete(NewsSubscription).where(NewsSubscription.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _show_questions(ctx: Context, user_id: int) -> list[str]:
    rows = await ctx.session.scalars(
        select(UnansweredQuestion.text).where(UnansweredQuestion.user_id == user_id)
        .order_by(UnansweredQuestion.id).limit(20)
    )
    return [f"«{quote(text[:100])}»" for text in rows]


async def _erase_questions(session: AsyncSession, user_id: int) -> int:
    result = await session.execute(
        delete(UnansweredQuestion).where(UnansweredQuestion.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _show_trips(ctx: Context, user_id: int) -> list[str]:
    lines = []
    legs = await JourneyRepo(ctx.session).legs_for_user(user_id)
    for trip in await TripRepo(ctx.session).for_user(user_id):
        line = format_trip(ctx.store, trip, ctx.lang, ctx.tz)
        for extra in journey_lines(ctx.store, legs.get(trip.id, []), [], ctx.lang, ctx.tz):
            line += "\n" + extra
        if trip.phone:
            line += "\n   " + _("your phone: {phone}").format(phone=quote(trip.phone))
        if trip.home_contact:
            line += "\n   " + _("contact at home: {contact}").format(
                contact=quote(trip.home_contact))
        lines.append(line)
    return lines


async def _show_companions(ctx: Context, user_id: int) -> list[str]:
    trips = {t.id: t for t in await TripRepo(ctx.session).for_user(user_id)}
    lines = []
    for trip_id, people in (await JourneyRepo(ctx.session).companions_for_user(user_id)).items():
        trip = trips.get(trip_id)
        where = format_trip(ctx.store, trip, ctx.lang, ctx.tz) if trip else "?"
        lines.append(f"{', '.join(quote(c.name) for c in people)} ({where})")
    return lines


async def _erase_companions(session: AsyncSession, user_id: int) -> int:
    """Before the trips: their legs go with them, the companions are counted on their own."""
    result = await session.execute(
        delete(TripCompanion).where(TripCompanion.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _show_follows(ctx: Context, user_id: int) -> list[str]:
    return [quote(ctx.store.country_name(iso, ctx.lang))
            for iso in await FollowRepo(ctx.session).countries(user_id)]


async def _erase_deliveries(session: AsyncSession, user_id: int) -> int:
    """The delivery ledger names the person's chat: it goes too."""
    result = await session.execute(delete(Delivery).where(
        Delivery.chat_id == user_id, Delivery.chat_kind == "private"))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _show_deliveries(ctx: Context, user_id: int) -> list[str]:
    rows = await ctx.session.scalars(
        select(Delivery.id).where(Delivery.chat_id == user_id, Delivery.chat_kind == "private"))
    count = len(list(rows))
    return [_("{count} messages sent to you").format(count=count)] if count else []


async def _show_groups_added(ctx: Context, user_id: int) -> list[str]:
    rows = await ctx.session.scalars(select(ChatRow.title).where(ChatRow.added_by == user_id))
    return [quote(title or "?") for title in rows]


async def _erase_trips(session: AsyncSession, user_id: int) -> int:
    return await TripRepo(session).delete_for_user(user_id)


async def _erase_follows(session: AsyncSession, user_id: int) -> int:
    return await FollowRepo(session).delete_for_user(user_id)


async def _erase_groups_added(session: AsyncSession, user_id: int) -> int:
    return await GroupRepo(session).forget_adder(user_id)


def personal_data() -> list[PersonalData]:
    """What the citizen assistant and the travellers' features hold; companions before the
    trips (erasing a trip takes its legs, the companions are counted on their own)."""
    return [
        PersonalData("users", lambda: _("Your profile"), _show_user, _erase_user),
        PersonalData("news_subscriptions", lambda: _("News subscription"),
                     _show_news, _erase_news),
        PersonalData("unanswered_questions",
                     lambda: _("Questions I could not answer (kept for editors)"),
                     _show_questions, _erase_questions),
        PersonalData("trip_companions", lambda: _("Travelling companions you named"),
                     _show_companions, _erase_companions),
        PersonalData("trips", lambda: _("Trips"), _show_trips, _erase_trips),
        PersonalData("country_follows", lambda: _("Countries whose alerts you follow"),
                     _show_follows, _erase_follows),
        PersonalData("deliveries", lambda: _("Record of messages sent to you"),
                     _show_deliveries, _erase_deliveries),
        PersonalData("chats_added_by", lambda: _("Groups you added me to"),
                     _show_groups_added, _erase_groups_added),
    ]
