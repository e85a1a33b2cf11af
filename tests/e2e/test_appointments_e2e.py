"""Appointments end to end: the real bot long polling the local Bot API server over HTTP,
on SQLite and PostgreSQL, with a clock the test moves. Operators set hours in their group;
citizens book, get the .ics file and the day-before reminder, move and cancel, in kk/ru/en."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.appointments.service import service_label
from bot.factory import create_privacy_registry
from bot.shared.translation import fmt_date, use_language
from localapi.records import Chat, User
from storage.models.appointments import Appointment
from storage.models.people import AuditEntry
from tests.kit import Clock, Conversation, RunningBot, rows_mentioning, running

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 12, 14, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
TUESDAY = date(2026, 12, 15)


class Mission(RunningBot):
    """The bot with the consular desk and a clock at Monday morning in Berlin."""

    clock: Clock
    group: Chat
    officer: User

    async def desk(self, text: str, count: int = 1) -> list[dict[str, Any]]:
        return await self.in_group(text, count=count)

    async def desk_press(self, message: dict[str, Any], label: str,
                         who: User | None = None) -> dict[str, Any]:
        """Press a button on a desk message; the callback query (to look up its answer)."""
        for row in self.server.buttons(message):
            for text, data in row:
                if label in text:
                    self.server.mark(self.group)
                    return await self.server.press_button(who or self.officer, message, data,
                                                          chat=self.group)
        raise AssertionError(f"no {label!r} on {self.server.buttons(message)}")

    def file(self, message: dict[str, Any]) -> bytes:
        return bytes(self.server.files[message["document"]["file_id"]].data)


async def _mission_bot(db_url: str, **extra: Any) -> AsyncIterator[Mission]:
    async with running(db_url, Mission, desk=True, clock=Clock(MONDAY), long_scripts=True,
                       **extra) as m:
        await m.dp["appointment_reminders"].stop()  # the test sweeps, after moving the clock
        await m.dp["travellers"].stop()
        yield m


@pytest_asyncio.fixture
async def mission(db_url: str) -> AsyncIterator[Mission]:
    async for made in _mission_bot(db_url):
        yield made


async def _open_tuesdays(m: Mission) -> None:
    [saved] = await m.desk("/slots de-berlin passport tue 09:00-10:00 20m")
    assert "Saved: de-berlin, passport. 6 times are open" in saved["text"]  # 2 Tuesdays × 3


async def _book(m: Mission, who: Conversation, lang: str, time: str) -> dict[str, Any]:
    """Through the buttons: /book → service → mission → day → time → ✅; the confirmation."""
    with use_language(lang):
        service = service_label("passport")
    day = fmt_date(TUESDAY, lang, BERLIN)
    city = {"kk": "Берлин", "ru": "Берлин", "en": "Berlin"}[lang]
    [services] = await who.say("/book")
    missions = await who.press(service, services)
    [offering, _back] = who.buttons(missions)  # only the mission that offers it
    assert city in offering
    days = await who.press(city, missions)
    assert who.buttons(days)[0] == day  # the next free day first, in the person's language
    times = await who.press(day, days)
    *clock_times, _back = who.buttons(times)
    assert time in clock_times and set(clock_times) <= {"09:00", "09:20", "09:40"}  # Berlin
    assert "UTC+1" in times["text"]
    confirm = await who.press(time, times)
    return await who.press("✅", confirm)


TEXTS = {
    "kk": {"booked": "Жазылдыңыз", "moved": "Ауыстырылды", "reminder": "ертең",
           "cancelled": "бас тартылды", "local": "Берлин жергілікті уақыты",
           "summary": "Консулдық қабылдау", "move": "ауыстыру", "cancel": "бас тарту",
           "yes": "Иә, бас тарту"},
    "ru": {"booked": "Вы записаны", "moved": "Перенесено", "reminder": "завтра",
           "cancelled": "отменена", "local": "местное время, Берлин",
           "summary": "Консульский приём", "move": "Перенести", "cancel": "Отменить",
           "yes": "Да, отменить"},
    "en": {"booked": "Booked", "moved": "Moved", "reminder": "tomorrow",
           "cancelled": "is cancelled", "local": "local time in Berlin",
           "summary": "Consular appointment", "move": "Move", "cancel": "Cancel",
           "yes": "Yes, cancel it"},
}


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_booked_reminded_moved_and_cancelled(mission: Mission, lang: str) -> None:
    m, t = mission, TEXTS[lang]
    await _open_tuesdays(m)
    aliya = m.person("Aliya", lang)
    done = await _book(m, aliya, lang, "09:00")
    assert t["booked"] in done["text"] and f"09:00 ({t['local']}, UTC+1)" in done["text"]
    number = int(re.search(r"(?:#|№)(\d+)", done["text"]).group(1))  # type: ignore[union-attr]
    [document] = await m.server.wait_for_messages(aliya.user, timeout=10)
    assert document["document"]["file_name"] == f"appointment-{number}.ics"
    calendar = m.file(document).decode().replace("\r\n ", "")
    assert "BEGIN:VCALENDAR" in calendar and "BEGIN:VEVENT" in calendar
    assert "DTSTART:20261215T080000Z" in calendar  # 09:00 in Berlin is 08:00 UTC
    assert f"UID:appointment-{number}@" in calendar and t["summary"] in calendar

    # The day before: one reminder, in her language, even if two sweeps run.
    m.clock.now = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    m.server.mark(aliya.user)
    first, second = await asyncio.gather(m.dp["appointment_reminders"].sweep(),
                                         m.dp["appointment_reminders"].sweep())
    assert first[0] + second[0] == 1
    [reminder] = await m.server.wait_for_messages(aliya.user, timeout=10)
    assert "⏰" in reminder["text"] and t["reminder"] in reminder["text"]
    assert f"№{number}" in reminder["text"] or f"#{number}" in reminder["text"]
    assert (await m.dp["appointment_reminders"].sweep())[0] == 0

    # Move: the new time is taken and the old one freed in one step.
    [listed] = await aliya.say("/appointments")
    days = await aliya.press(t["move"], listed)
    times = await aliya.press(fmt_date(TUESDAY, lang, BERLIN), days)
    confirm = await aliya.press("09:40", times)
    moved = await aliya.press("✅", confirm)
    assert t["moved"] in moved["text"] and "09:40" in moved["text"]
    [document] = await m.server.wait_for_messages(aliya.user, timeout=10)
    assert "DTSTART:20261215T084000Z" in m.file(document).decode()
    rows = await m.scalars(select(Appointment).where(Appointment.user_id == aliya.user.id))
    assert len(rows) == 1 and rows[0].status == "active"
    assert rows[0].reminded_at == m.clock.now  # within a day: the confirmation reminds

    # Someone else can now take 09:00.
    other = m.person("Bolat", lang)
    again = await _book(m, other, lang, "09:00")
    assert t["booked"] in again["text"]

    [listed] = await aliya.say("/appointments")
    ask = await aliya.press(t["cancel"], listed)
    gone = await aliya.press(t["yes"], ask)
    assert t["cancelled"] in gone["text"]
    [row] = await m.scalars(select(Appointment).where(Appointment.user_id == aliya.user.id))
    assert row.status == "cancelled"
    actions = await m.scalars(select(AuditEntry.action).where(
        AuditEntry.action.like("appointment.%")))
    assert {"appointment.booked", "appointment.moved", "appointment.cancelled",
            "appointment.hours"} <= set(actions)
    assert [c for c in m.server.calls if not c.ok and c.method != "getUpdates"] == []


async def test_a_taken_time_and_forged_buttons_are_refused(mission: Mission) -> None:
    m = mission
    await _open_tuesdays(m)
    aliya, bolat = m.person("Aliya", "en"), m.person("Bolat", "ru")
    [services] = await bolat.say("/book")
    missions = await bolat.press("Паспорт", services)
    days = await bolat.press("Берлин", missions)
    times = await bolat.press(fmt_date(TUESDAY, "ru", BERLIN), days)
    confirm = await bolat.press("09:20", times)  # Bolat hesitates on the confirmation…
    await _book(m, aliya, "en", "09:20")  # …and Aliya takes 09:20
    [ok] = [d for row in m.server.buttons(confirm) for t, d in row if "✅" in t]
    query = await m.server.press_callback(bolat.user, confirm["message_id"], str(ok))
    answer = await m.answer_to(query)
    assert answer.get("text", "").startswith("Извините, это время только что занял")

    # Forged data: a slot that does not exist, someone else's appointment, garbage.
    [mine] = await m.scalars(select(Appointment.id).where(Appointment.user_id == aliya.user.id))
    for data in ("ap:ok:passport:de-berlin:20261215:987654:0", f"ap:cxl_yes:::::{mine}",
                 f"ap:move:::::{mine}", "ap:day:passport:xx-nowhere:20261215:0:0",
                 "ap:ok:passport:de-berlin:2026:1:1", "ap:zz"):
        query = await m.server.press_callback(bolat.user, confirm["message_id"], data)
        answer = await m.answer_to(query)
        assert answer.get("text"), data  # answered, in words
        assert "Traceback" not in answer["text"]
    [still] = await m.scalars(select(Appointment.status).where(Appointment.id == mine))
    assert still == "active"


async def test_the_operators_day_list_no_show_and_export(mission: Mission) -> None:
    m = mission
    await _open_tuesdays(m)
    aliya = m.person("Aliya", "kk")
    done = await _book(m, aliya, "kk", "09:40")
    number = int(re.search(r"№(\d+)", done["text"]).group(1))  # type: ignore[union-attr]
    [listing] = await m.desk("/day de-berlin 2026-12-15")
    assert f"09:40 · #{number} · Passport or ID card · kk" in listing["text"]
    [empty] = await m.desk("/day de-frankfurt 2026-12-15")
    assert "No appointments on this day." in empty["text"]
    [bad] = await m.desk("/day de-nowhere")
    assert "Unknown mission" in bad["text"]

    # A member of the group who is not an operator: refused and audited.
    stranger = m.server.add_user(first_name="Someone", language_code="en")
    query = await m.desk_press(listing, "No-show", who=stranger)
    assert "Only the operators" in (await m.answer_to(query)).get("text", "")
    query = await m.desk_press(listing, "No-show")
    assert "Marked as a no-show." in (await m.answer_to(query)).get("text", "")
    [edited] = await m.server.wait_for_messages(m.group, timeout=10)
    assert f"🚫 09:40 · #{number}" in edited["text"]
    [row] = await m.scalars(select(Appointment.status).where(Appointment.id == number))
    assert row == "no_show"
    await m.desk_press(edited, "Export CSV")
    [csv_file] = await m.server.wait_for_messages(m.group, timeout=10)
    assert csv_file["document"]["file_name"] == "appointments-de-berlin-2026-12-15.csv"
    lines = m.file(csv_file).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("appointment,mission,local_time")
    assert lines[1].startswith(f"{number},de-berlin,2026-12-15T09:40:00+01:00")
    assert lines[1].endswith(",passport,kk,no_show")
    refused = await m.scalars(select(AuditEntry.actor_id).where(
        AuditEntry.action == "appointment.desk", AuditEntry.allowed.is_(False)))
    assert refused == [stranger.id]
    [closed] = await m.desk("/closed de-berlin 2026-12-22")
    assert "de-berlin is closed on 2026-12-22." in closed["text"]
    [usage] = await m.desk("/slots de-berlin passport someday 9-5")
    assert "/slots MISSION SERVICE DAYS" in usage["text"]


async def test_my_data_and_forget_me_cover_appointments(mission: Mission) -> None:
    m = mission
    assert "appointments" in {e.key for e in create_privacy_registry().entries()}
    await _open_tuesdays(m)
    dana = m.person("Dana", "en")
    await _book(m, dana, "en", "09:20")
    await m.server.wait_for_messages(dana.user, timeout=10)  # the .ics
    [shown] = await dana.say("/my_data")
    assert "Consular appointments" in shown["text"] and "Passport or ID card" in shown["text"]
    assert await rows_mentioning(m.settings.db.url, dana.user.id)
    [ask] = await dana.say("/forget_me")
    done = await dana.press("Yes, erase everything", ask)
    assert "Consular appointments (1)" in done["text"]
    assert await rows_mentioning(m.settings.db.url, dana.user.id) == {}


async def test_an_operator_manages_only_the_missions_set_for_them(sqlite_url: str) -> None:
    async for m in _mission_bot(sqlite_url, operator_missions=lambda officer: {
            officer.id: ("de-frankfurt",)}):
        [refused] = await m.desk("/slots de-berlin passport tue 09:00-10:00 20m")
        assert "You do not manage de-berlin (OPERATOR_MISSIONS)." in refused["text"]
        [refused] = await m.desk("/day de-berlin 2026-12-15")
        assert "You do not manage de-berlin" in refused["text"]
        [saved] = await m.desk("/slots de-frankfurt notary mon 10:00-11:00 30m")
        assert "Saved: de-frankfurt, notary." in saved["text"]
        audited = await m.scalars(select(AuditEntry.target).where(
            AuditEntry.action == "appointment.desk", AuditEntry.allowed.is_(False)))
        assert audited == ["mission:de-berlin", "mission:de-berlin"]
