"""Appointments through the service: two people can never hold one slot (a database
constraint), moves are atomic, templates and closed days plan the right slots."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers.store import ContentStore
from bot.appointments.service import (
    Appointments,
    BookingError,
    ics,
    parse_days,
    parse_hours,
    places,
    planned,
    refusal,
    utc_offset,
)
from bot.shared.translation import use_language
from storage.appointments import TemplateDTO
from storage.db import create_engine, create_session_factory
from storage.models.appointments import Appointment, AppointmentSlot
from tests.kit import CONTENT

STORE = ContentStore.from_files(CONTENT)
BERLIN = ZoneInfo("Europe/Berlin")
# A Monday morning in Berlin, 2026-12-14 08:00 local (07:00 UTC).
NOW = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)
OPERATOR = 5001


@pytest_asyncio.fixture
async def factory(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url, pool_size=30, max_overflow=30)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def _ten_slots(factory: async_sessionmaker[AsyncSession]) -> list[int]:
    """de-berlin passport on Tuesdays 09:00-10:40 in 10-minute slots: 10 slots on 15 Dec."""
    async with factory() as session, session.begin():
        book = Appointments(session, STORE, NOW)
        await book.set_hours("de-berlin", "passport", [1], ("09:00", "10:40", 10), OPERATOR)
    async with factory() as session:
        slots = await Appointments(session, STORE, NOW).times("passport", "de-berlin",
                                                             date(2026, 12, 15))
    assert len(slots) == 10
    return [s.id for s in slots]


async def test_fifty_concurrent_bookings_for_ten_slots(
        factory: async_sessionmaker[AsyncSession]) -> None:
    slot_ids = await _ten_slots(factory)
    start = asyncio.Event()

    async def one(person: int) -> str:
        await start.wait()
        async with factory() as session:
            try:
                async with session.begin():
                    await Appointments(session, STORE, NOW).book(
                        10_000 + person, "kk", slot_ids[person % 10])
            except BookingError as exc:
                with use_language("kk"):
                    return refusal(exc.reason)
        return "booked"

    tasks = [asyncio.create_task(one(i)) for i in range(50)]
    start.set()
    outcomes = await asyncio.gather(*tasks)
    assert outcomes.count("booked") == 10
    refused = [o for o in outcomes if o != "booked"]
    assert len(refused) == 40
    with use_language("kk"):
        taken = refusal("slot")
    assert set(refused) == {taken}  # the localized "taken"
    assert "уақыт" in taken  # Kazakh, not the English source
    async with factory() as session:
        held = (await session.execute(select(Appointment.slot_id, func.count()).where(
            Appointment.status == "active").group_by(Appointment.slot_id))).all()
    assert sorted(s for s, _n in held) == sorted(slot_ids) and {n for _s, n in held} == {1}


async def test_the_database_refuses_a_second_holder(
        factory: async_sessionmaker[AsyncSession]) -> None:
    """Past any Python check: a raw second active row for a held slot is refused."""
    slot_ids = await _ten_slots(factory)
    async with factory() as session, session.begin():
        first = await Appointments(session, STORE, NOW).book(1, "en", slot_ids[0])
    with pytest.raises(IntegrityError):
        async with factory() as session, session.begin():
            session.add(Appointment(slot_id=slot_ids[0], user_id=2, lang="en",
                                    mission="de-berlin", service="passport",
                                    starts_at=first.starts_at, status="active"))
    async with factory() as session, session.begin():  # a cancelled row does not hold it
        session.add(Appointment(slot_id=slot_ids[0], user_id=3, lang="en",
                                mission="de-berlin", service="passport",
                                starts_at=first.starts_at, status="cancelled"))


async def test_move_is_atomic_and_cancel_frees_the_slot(
        factory: async_sessionmaker[AsyncSession]) -> None:
    slot_ids = await _ten_slots(factory)
    async with factory() as session, session.begin():
        book = Appointments(session, STORE, NOW)
        mine = await book.book(1, "ru", slot_ids[0])
        other = await book.book(2, "ru", slot_ids[1])
        with pytest.raises(BookingError) as again:
            await book.book(1, "ru", slot_ids[2])
        assert again.value.reason == "service"  # one active appointment per service
        with pytest.raises(BookingError) as taken:
            await book.move(1, mine.id, slot_ids[1])
        assert taken.value.reason == "slot"
        assert (await book.own(1, mine.id)).slot_id == slot_ids[0]  # unchanged
        moved = await book.move(1, mine.id, slot_ids[5])
        assert moved.slot_id == slot_ids[5] and moved.id == mine.id
        with pytest.raises(BookingError):
            await book.move(2, mine.id, slot_ids[6])  # not hers
        await book.cancel(2, other.id)
    async with factory() as session, session.begin():
        book = Appointments(session, STORE, NOW)
        free = {s.id for s in await book.times("passport", "de-berlin", date(2026, 12, 15))}
        assert slot_ids[0] in free and slot_ids[1] in free and slot_ids[5] not in free
        third = await book.book(3, "en", slot_ids[1])
        assert third.slot_id == slot_ids[1]
    async with factory() as session:
        late = Appointments(session, STORE, datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
        with pytest.raises(BookingError) as past:
            await late.book(4, "en", slot_ids[0])
        assert past.value.reason == "past"
        with pytest.raises(BookingError) as forged:
            await late.book(4, "en", 987654321)
        assert forged.value.reason == "gone"


async def test_closed_and_extra_days_replan_free_slots(
        factory: async_sessionmaker[AsyncSession]) -> None:
    slot_ids = await _ten_slots(factory)
    async with factory() as session, session.begin():
        book = Appointments(session, STORE, NOW)
        await book.book(1, "en", slot_ids[3])
        still = await book.set_day("de-berlin", date(2026, 12, 15), "closed", None, OPERATOR)
        assert still == 1  # the operator is told who is still booked
        assert await book.days("passport", "de-berlin") == [date(2026, 12, 22)]
        await book.set_day("de-berlin", date(2026, 12, 19), "open", 1, OPERATOR)  # a Saturday
        assert await book.days("passport", "de-berlin") == [date(2026, 12, 19),
                                                             date(2026, 12, 22)]
    async with factory() as session:
        left = await session.scalar(select(func.count()).select_from(AppointmentSlot).where(
            AppointmentSlot.starts_at < datetime(2026, 12, 16, tzinfo=UTC)))
    assert left == 1  # only the booked slot of the closed day stays


def test_planning_reads_local_time_across_the_dst_change() -> None:
    tue = TemplateDTO("de-berlin", "passport", 1, "09:00", "10:00", 30)
    slots = planned([tue], {}, BERLIN, date(2026, 3, 23), 14)  # DST starts 29 March
    starts = [a for _s, a, _b in slots]
    assert starts == [datetime(2026, 3, 24, 8, 0, tzinfo=UTC),
                      datetime(2026, 3, 24, 8, 30, tzinfo=UTC),
                      datetime(2026, 3, 31, 7, 0, tzinfo=UTC),
                      datetime(2026, 3, 31, 7, 30, tzinfo=UTC)]
    assert utc_offset(starts[0], BERLIN) == "UTC+1" and utc_offset(starts[2], BERLIN) == "UTC+2"
    assert utc_offset(starts[0], ZoneInfo("Asia/Kolkata")) == "UTC+5:30"


def test_parsing_the_desk_commands() -> None:
    assert parse_days("mon-fri") == [0, 1, 2, 3, 4]
    assert parse_days("mon,wed,sat-sun") == [0, 2, 5, 6]
    assert parse_days("fri-mon") is None and parse_days("funday") is None
    assert parse_hours("09:00-12:00", "20m") == ("09:00", "12:00", 20)
    assert parse_hours("9:00-9:10", "20m") is None  # shorter than one slot
    assert parse_hours("25:00-26:00", "1h") is None


def test_ics_is_a_valid_calendar_in_utc() -> None:
    from storage.appointments import AppointmentDTO

    place = places(STORE)["de-berlin"]
    start = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
    appt = AppointmentDTO(42, 7, 1, "kk", "de-berlin", "passport", start, "active", None)
    with use_language("kk"):
        raw = ics(appt, place, "kk", 20, NOW).decode()
    lines = raw.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and lines[-1] == ""
    assert "BEGIN:VEVENT" in lines and "END:VEVENT" in lines
    assert "DTSTART:20261215T080000Z" in lines and "DTEND:20261215T082000Z" in lines
    assert any(x.startswith("UID:appointment-42@") for x in lines)
    unfolded = raw.replace("\r\n ", "")
    assert "Берлин" in unfolded and "SUMMARY:Консулдық" in unfolded
    assert all(len(x.encode()) <= 75 for x in lines)


async def test_retention_deletes_past_appointments_after_the_setting(
        factory: async_sessionmaker[AsyncSession]) -> None:
    from bot.appointments.service import purge_past_appointments
    from tests.kit import make_settings

    slot_ids = await _ten_slots(factory)
    async with factory() as session, session.begin():
        book = Appointments(session, STORE, NOW)
        kept = await book.book(1, "en", slot_ids[0])
        gone = await book.book(2, "en", slot_ids[1])
        await book.cancel(2, gone.id)
    settings = make_settings("sqlite+aiosqlite://", appointment_retention_days=30)
    visit = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
    assert await purge_past_appointments(factory, settings, visit + timedelta(days=29)) == 0
    assert await purge_past_appointments(factory, settings, visit + timedelta(days=31)) == 2
    async with factory() as session:
        left = await session.scalars(select(Appointment.id))
        slots = await session.scalar(select(func.count()).select_from(AppointmentSlot).where(
            AppointmentSlot.starts_at < visit + timedelta(days=1)))
    assert list(left) == [] and slots == 0 and kept.id


async def test_missions_of_the_persons_countries_come_first(
        factory: async_sessionmaker[AsyncSession]) -> None:
    from storage.models.travel import CountryFollow

    async with factory() as session, session.begin():
        book = Appointments(session, STORE, NOW)
        for mission in ("de-berlin", "tr-istanbul", "ae-dubai"):
            await book.set_hours(mission, "notary", [0, 1], ("10:00", "11:00", 30), OPERATOR)
        session.add(CountryFollow(user_id=77, country="TR", lang="ru"))
    async with factory() as session:
        book = Appointments(session, STORE, NOW)
        assert await book.missions("notary", 77) == ["tr-istanbul", "ae-dubai", "de-berlin"]
        assert await book.missions("notary", 78) == ["ae-dubai", "de-berlin", "tr-istanbul"]
        assert await book.missions("passport", 77) == []
        assert await book.services() == ["notary"]


def test_operator_missions_setting() -> None:
    from pydantic import ValidationError

    from tests.kit import make_settings

    settings = make_settings("sqlite+aiosqlite://",
                             operator_missions="111:de-berlin, de-frankfurt; 222:tr-ankara")
    assert settings.missions_of(111) == {"de-berlin", "de-frankfurt"}
    assert settings.missions_of(222) == {"tr-ankara"}
    assert settings.missions_of(333) == set()  # not listed: manages none
    assert make_settings("sqlite+aiosqlite://").missions_of(333) is None  # empty: all
    for bad in ("111", "abc:de-berlin", "111:Berlin"):
        with pytest.raises(ValidationError):
            make_settings("sqlite+aiosqlite://", operator_missions=bad)
