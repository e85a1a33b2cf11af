"""Cases end to end: a case from the consular system's CSV to a citizen's lookup, their
follow and the status push; the enumeration guard; the desk's /case; /forget_me and
retention. Through the local Bot API server (real HTTP, the real bot long polling), in
kk, ru and en, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.cases import service
from bot.cases.imports import CaseImportErrors, ImportReport, import_cases, parse_csv
from bot.shared.translation import fmt_date
from localapi.records import Chat, User
from storage.models.base import utcnow
from storage.models.cases import Case, CaseFollower, CaseLookup, CaseNotice, CaseStep
from storage.models.people import AuditEntry
from tests.kit import CONTENT, ROOT, Conversation, RunningBot, rows_mentioning, running, until

LANGS = ["kk", "ru", "en"]
HEADER = "number,service,mission,status,factor,secret,lang,note,date\n"

# What a person reads, in their language (literally, so a missing translation fails here).
RECEIVED = {"kk": "Қабылданды", "ru": "Принято", "en": "Received"}
READY = {"kk": "Алуға дайын", "ru": "Готово к выдаче", "en": "Ready for collection"}
FOLLOW = {"kk": "Өтінімді бақылау", "ru": "Следить за заявлением", "en": "Follow this case"}
UNFOLLOW = {"kk": "Бақылауды тоқтату", "ru": "Не следить", "en": "Stop following"}
ASK_FACTOR = {"kk": "туған күніңізді", "ru": "дату рождения", "en": "date of birth"}
REFUSED = {"kk": "өтінімді көрсете алмадым", "ru": "Не удалось показать заявление",
           "en": "I could not show a case"}
LOCKED = {"kk": "Әрекет саны тым көп", "ru": "Слишком много попыток",
          "en": "too many attempts"}
NOT_YOURS = {"kk": "Бұл түйме сізге арналмаған", "ru": "Эта кнопка не для вас",
             "en": "This button is not yours"}
PUSH = {"kk": "мәртебесі өзгерді", "ru": "новый статус", "en": "the status is now"}


class CasesBot(RunningBot):
    """The bot with the consular desk, importing the case register from ``tmp``."""

    group: Chat
    officer: User
    tmp: Path

    async def import_rows(self, *rows: str, name: str = "cases.csv") -> ImportReport:
        path = self.tmp / name
        path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
        return await import_cases(self.app.session_factory, self.app.store, path,
                                  self.settings.tz)

    async def officer_says(self, text: str) -> list[dict[str, Any]]:
        return await self.in_group(text)

    def failed_calls(self, *ignored: str) -> list[str]:
        return super().failed_calls("deleteMessage", *ignored)


@pytest_asyncio.fixture
async def cb(db_url: str, tmp_path: Path) -> AsyncIterator[CasesBot]:
    async with running(db_url, CasesBot, desk=True, long_scripts=True) as bot:
        bot.tmp = tmp_path
        yield bot


def _row(number: str, status: str = "received", lang: str = "en", *, factor: str = "dob",
         secret: str = "1990-05-17", note: str = "", day: str = "2026-11-20",
         mission: str = "DE") -> str:
    return f"{number},passport,{mission},{status},{factor},{secret},{lang},{note},{day}"


def _day(text: str, lang: str, tz: Any) -> str:
    d = datetime.fromisoformat(text)
    return fmt_date(datetime(d.year, d.month, d.day, 12, tzinfo=tz), lang, tz)


async def _look_up(person: Conversation, number: str, factor: str) -> dict[str, Any]:
    await person.say("/case")
    await person.say(number)
    [answer] = await person.say(factor)
    return answer


@pytest.mark.parametrize("lang", LANGS)
async def test_case_from_import_to_status_push_and_lookup(cb: CasesBot, lang: str) -> None:
    report = await cb.import_rows(_row("KZ-2026-0001", lang=lang))
    assert (report.created, report.notices) == (1, 0)
    aliya = cb.person("Aliya", lang)
    [ask] = await aliya.say("/case")
    assert ask["text"]  # asks the number in her language
    [ask_factor] = await aliya.say("kz-2026-0001")  # typed in lower case: the same number
    assert ASK_FACTOR[lang] in ask_factor["text"]
    [card] = await aliya.say("17.05.1990")
    assert "KZ-2026-0001" in card["text"] and RECEIVED[lang] in card["text"]
    assert _day("2026-11-20", lang, cb.settings.tz) in card["text"]
    assert aliya.buttons(card) == [f"🔔 {FOLLOW[lang]}"]

    followed = await aliya.press(FOLLOW[lang], card)
    assert aliya.buttons(followed) == [f"🔕 {UNFOLLOW[lang]}"]
    assert await cb.settled(select(CaseFollower.lang), lang) == lang

    # the consular system's next export: the status changed, with a note and a date
    cb.server.mark(aliya.user)
    again = await cb.import_rows(_row("KZ-2026-0001", "ready", lang, note="Bring the receipt",
                                      day="2026-11-30"))
    assert (again.updated, again.status_changes, again.notices) == (1, 1, 1)
    await cb.dp["case_notices"].sweep()
    [push] = await cb.server.wait_for_messages(aliya.user)
    assert "KZ-2026-0001" in push["text"] and PUSH[lang] in push["text"]
    assert READY[lang] in push["text"] and "Bring the receipt" in push["text"]
    assert _day("2026-11-30", lang, cb.settings.tz) in push["text"]
    assert await cb.settled(select(func.count()).select_from(CaseNotice), 0) == 0

    [ask_factor] = await aliya.say("/case KZ-2026-0001")  # the number with the command
    assert ASK_FACTOR[lang] in ask_factor["text"]
    [card] = await aliya.say("1990-05-17")
    assert RECEIVED[lang] in card["text"] and READY[lang] in card["text"]  # both steps, dated
    assert card["text"].index(RECEIVED[lang]) < card["text"].index(_day("2026-11-30", lang,
                                                                        cb.settings.tz))
    assert aliya.buttons(card) == [f"🔕 {UNFOLLOW[lang]}"]
    assert cb.failed_calls() == []


@pytest.mark.parametrize("lang", LANGS)
async def test_wrong_second_factor_refused_then_locked(cb: CasesBot, lang: str) -> None:
    await cb.import_rows(_row("KZ-2026-0002", lang=lang, factor="doc4", secret="4821"))
    limit = cb.settings.case_tries_per_hour
    assert limit == cb.settings.case_failures_per_day == 5
    mallory = cb.person("Mallory", lang)
    for wrong in ("1111", "2222", "3333", "4444", "17.05.1990"):
        answer = await _look_up(mallory, "KZ-2026-0002", wrong)
        assert REFUSED[lang] in answer["text"] and "KZ-2026-0002" not in answer["text"]
    # this person is locked out, and told so; even the right factor is refused now
    [start] = await mallory.say("/case")
    assert LOCKED[lang] in start["text"]
    async with cb.app.session_factory() as session, session.begin():
        late = await service.lookup(session, cb.settings, mallory.user.id, "KZ-2026-0002",
                                    ("doc4", "4821"))
    assert late.outcome is service.Outcome.LOCKED and late.case is None

    # the case itself is locked for the day: its owner gets the same answer as a stranger
    owner = cb.person("Owner", lang)
    refused = await _look_up(owner, "KZ-2026-0002", "4821")
    stranger = cb.person("Stranger", lang)
    no_such = await _look_up(stranger, "KZ-2026-9999", "4821")
    assert refused["text"] == no_such["text"]  # no way to tell which numbers exist
    assert REFUSED[lang] in refused["text"]

    reasons = await cb.scalars(select(AuditEntry.details).where(
        AuditEntry.action == "case.lookup_refused", AuditEntry.allowed.is_(False))
        .order_by(AuditEntry.id))
    assert [d["reason"] for d in reasons] == (
        ["wrong_factor"] * 5 + ["person_locked"] * 2 + ["case_locked", "no_such_number"])
    failures = await cb.scalars(select(CaseLookup.user_id).where(CaseLookup.ok.is_(False)))
    assert failures.count(mallory.user.id) == 5
    assert await cb.scalars(select(CaseLookup.id).where(CaseLookup.ok.is_(True))) == []


@pytest.mark.parametrize("lang", LANGS)
async def test_forged_follow_button_is_refused(cb: CasesBot, lang: str) -> None:
    await cb.import_rows(_row("KZ-2026-0003", lang=lang))
    [case_id] = await cb.scalars(select(Case.id))
    eve = cb.person("Eve", lang)
    [menu] = await eve.say("/menu")
    await cb.server.press_callback(eve.user, menu["message_id"], f"cs:follow:{case_id}")
    answer = await until(lambda: [v for v in cb.server.callback_answers().values()
                                   if NOT_YOURS[lang] in (v.get("text") or "")])
    assert answer and answer[0].get("show_alert") is True
    await cb.server.press_callback(eve.user, menu["message_id"], "cs:follow:abc")  # malformed
    assert await until(lambda: len(cb.server.callback_answers()) == 2)
    assert await cb.scalars(select(CaseFollower.user_id)) == []
    audited = await cb.scalars(select(AuditEntry.action).where(AuditEntry.allowed.is_(False)))
    assert audited == ["case.follow"]


async def test_operator_command_notifies_followers_in_their_languages(cb: CasesBot) -> None:
    await cb.import_rows(_row("KZ-2026-0004", lang="ru"))
    people = {lang: cb.person(f"Follower {lang}", lang) for lang in LANGS}
    for lang, person in people.items():
        card = await _look_up(person, "KZ-2026-0004", "1990-05-17")
        await person.press(FOLLOW[lang], card)
    assert await cb.settled(select(func.count()).select_from(CaseFollower), 3) == 3

    for person in people.values():
        cb.server.mark(person.user)
    [reply] = await cb.officer_says("/case KZ-2026-0004 status ready Bring your old passport")
    assert "Ready for collection" in reply["text"] and "Followers to be told: 3" in reply["text"]
    for lang, person in people.items():  # the desk woke the sender: nobody sweeps here
        [push] = await cb.server.wait_for_messages(person.user)
        assert READY[lang] in push["text"] and PUSH[lang] in push["text"]
        assert "Bring your old passport" in push["text"]

    [shown] = await cb.officer_says("/case KZ-2026-0004")
    assert "Received" in shown["text"] and "Followers: 3" in shown["text"]
    [unknown] = await cb.officer_says("/case KZ-2026-0004 status redy")
    assert "Unknown status" in unknown["text"] and "ready" in unknown["text"]
    [created] = await cb.officer_says("/case KZ-2026-0005 new visa de-frankfurt doc4=4821 kk")
    assert "KZ-2026-0005" in created["text"] and "Consulate General" in created["text"]
    [row] = await cb.scalars(select(Case).where(Case.number == "KZ-2026-0005"))
    assert (row.service, row.country, row.mission, row.factor, row.lang) == \
        ("visa", "DE", "de-frankfurt", "doc4", "kk")
    assert "4821" not in row.factor_hash  # only the salted hash is stored

    # a member who is not an administrator is refused and audited; the case is unchanged
    member = cb.server.add_user(first_name="Member", language_code="en")
    cb.group.members.append(member.id)
    cb.server.mark(cb.group)
    await cb.server.send_message(member, "/case KZ-2026-0004 status closed", cb.group)
    [refusal] = await cb.server.wait_for_messages(cb.group)
    assert "Only the operators" in refusal["text"]
    assert await cb.scalars(select(Case.status).where(Case.number == "KZ-2026-0004")) == \
        ["ready"]
    assert await cb.scalars(select(AuditEntry.actor_id).where(
        AuditEntry.action == "case.desk", AuditEntry.allowed.is_(False))) == [member.id]


async def test_reimport_is_idempotent_and_a_changed_status_adds_one_step(cb: CasesBot) -> None:
    rows = [_row("KZ-1", "received"), _row("KZ-2", "in_review", "kk", factor="doc4",
                                           secret="0042"), _row("KZ-3", "issued", "ru")]
    first = await cb.import_rows(*rows)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    async with cb.app.session_factory() as session, session.begin():
        session.add(CaseFollower(case_id=1, user_id=4242, lang="kk"))
    counts = [await cb.count(m) for m in (Case, CaseStep, CaseNotice)]
    second = await cb.import_rows(*rows)
    assert (second.created, second.updated, second.unchanged, second.notices) == (0, 0, 3, 0)
    assert [await cb.count(m) for m in (Case, CaseStep, CaseNotice)] == counts == [3, 3, 0]
    [closed] = await cb.scalars(select(Case.closed_at).where(Case.number == "KZ-3"))
    assert closed is not None  # issued is final: retention counts from here

    third = await cb.import_rows(_row("KZ-1", "documents_requested"), *rows[1:])
    assert (third.updated, third.status_changes, third.notices, third.unchanged) == (1, 1, 1, 2)
    assert await cb.count(CaseStep) == 4
    assert await cb.scalars(select(CaseNotice.user_id)) == [4242]
    fourth = await cb.import_rows(_row("KZ-1", "documents_requested"), *rows[1:])
    assert fourth.unchanged == 3 and await cb.count(CaseStep) == 4


async def test_csv_errors_name_the_line_and_the_column(cb: CasesBot) -> None:
    path = cb.tmp / "cases.csv"
    path.write_text(HEADER + "\n".join([
        _row("KZ-1"),
        "# a comment line is skipped, and counted",
        _row("KZ-2", "redy"),
        _row("KZ-1"),
        _row("KZ-4", mission="XX", factor="dob", secret="1990-13-45"),
        _row("KZ-5", lang="de", factor="pin", day="tomorrow"),
        "KZ 6!,passport,DE,received,doc4,12,en,,",
    ]) + "\n", encoding="utf-8")
    with pytest.raises(CaseImportErrors) as caught:
        parse_csv(path, cb.app.store, cb.settings.tz)
    problems = caught.value.problems
    assert f'{path}:4: column "status": unknown status "redy"' in problems[0]
    assert f'{path}:5: column "number": "KZ-1" is already on line 2' in problems
    assert any(p.startswith(f'{path}:6: column "mission": unknown mission "XX"')
               for p in problems)
    assert f'{path}:6: column "secret": not a date of birth (YYYY-MM-DD)' in problems
    assert any(p.startswith(f'{path}:7: column "factor"') for p in problems)
    assert any(p.startswith(f'{path}:7: column "lang"') for p in problems)
    assert any(p.startswith(f'{path}:7: column "date"') for p in problems)
    assert any(p.startswith(f'{path}:8: column "number"') for p in problems)
    assert f"{path}:8: column \"secret\": not the document's last 4 digits" in problems
    assert all("\n" not in p for p in problems)  # one line each
    with pytest.raises(CaseImportErrors):
        await import_cases(cb.app.session_factory, cb.app.store, path, cb.settings.tz)
    assert await cb.count(Case) == 0  # the good first line was not written either

    header = cb.tmp / "header.csv"
    header.write_text("number,service,mission,status,factor,lang,colour\n", encoding="utf-8")
    with pytest.raises(CaseImportErrors) as caught:
        parse_csv(header, cb.app.store, cb.settings.tz)
    assert caught.value.problems == [
        f'{header}:1: column "secret": missing from the header',
        f'{header}:1: column "colour": unknown column (known: number, service, mission, '
        'status, factor, secret, lang, note, date)']


async def test_forget_me_erases_follows_and_lookups(cb: CasesBot) -> None:
    await cb.import_rows(_row("KZ-2026-0007"))
    dana = cb.person("Dana", "en")
    bystander = cb.person("Other", "en")
    refused = await _look_up(dana, "KZ-2026-0007", "01.01.1991")  # an audited refusal
    assert REFUSED["en"] in refused["text"]
    card = await _look_up(dana, "KZ-2026-0007", "17.05.1990")
    await dana.press(FOLLOW["en"], card)
    other = await _look_up(bystander, "KZ-2026-0007", "17.05.1990")
    await bystander.press(FOLLOW["en"], other)
    await cb.import_rows(_row("KZ-2026-0007", "in_review"))  # notices queued for both
    assert await cb.scalars(select(CaseNotice.user_id).order_by(CaseNotice.user_id)) == \
        sorted([dana.user.id, bystander.user.id])

    [shown] = await dana.say("/my_data")
    assert "Cases you follow" in shown["text"] and "KZ-2026-0007" in shown["text"]
    assert "Case lookups: 2" in shown["text"]
    [ask] = await dana.say("/forget_me")
    done = await dana.press("Yes, erase everything", ask)
    assert "Cases you follow (1)" in done["text"] and "Your case lookups (2)" in done["text"]

    assert await rows_mentioning(cb.settings.db.url, dana.user.id) == {}
    assert await rows_mentioning(cb.settings.db.url, bystander.user.id)  # others untouched
    assert await cb.scalars(select(CaseFollower.user_id)) == [bystander.user.id]
    # the refusal stays in the audit log as an event, without her id
    assert await cb.scalars(select(AuditEntry.actor_id).where(
        AuditEntry.action == "case.lookup_refused")) == [None]


async def test_retention_deletes_closed_cases_and_old_lookups(cb: CasesBot) -> None:
    await cb.import_rows(_row("KZ-OPEN", "in_review"), _row("KZ-DONE", "closed"))
    person = cb.person("Aliya", "en")
    await _look_up(person, "KZ-OPEN", "17.05.1990")
    now = utcnow()
    assert await service.purge_cases(cb.app.session_factory, cb.settings, now) == (0, 0)
    later = now + timedelta(days=cb.settings.case_lookup_retention_days, hours=1)
    assert await service.purge_cases(cb.app.session_factory, cb.settings, later) == (0, 1)
    much_later = now + timedelta(days=cb.settings.cases_retention_days + 1)
    assert await service.purge_cases(cb.app.session_factory, cb.settings, much_later) == (1, 0)
    assert await cb.scalars(select(Case.number)) == ["KZ-OPEN"]
    assert await cb.count(CaseStep) == 1


def test_cli_import_exits_non_zero_with_one_line_per_error(sqlite_url: str,
                                                           tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "DATABASE_URL": sqlite_url, "BOT_TOKEN": "", "LOG_LEVEL": "WARNING"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=120)

    assert run("content", "import", str(CONTENT)).returncode == 0
    bad = tmp_path / "cases.csv"
    bad.write_text(HEADER + _row("KZ-1") + "\n" + _row("KZ-2", "redy") + "\n",
                   encoding="utf-8")
    proc = run("cases", "import", str(bad))
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f'{bad}:3: column "status": unknown status "redy" (known: received, in_review, '
        'documents_requested, ready, issued, refused, closed)',
        f"{bad}: nothing was imported"]
    sample = ROOT / "docs" / "cases.sample.csv"
    proc = run("cases", "import", str(sample))
    assert proc.returncode == 0, proc.stderr
    assert "3 created" in proc.stdout
    proc = run("cases", "import", str(sample))
    assert "0 created, 0 updated" in proc.stdout and "3 unchanged" in proc.stdout


def test_second_factor_forms() -> None:
    assert service.read_factor("17.05.1990") == ("dob", "1990-05-17")
    assert service.read_factor("1990-05-17") == ("dob", "1990-05-17")
    assert service.read_factor(" 0042 ") == ("doc4", "0042")
    assert service.read_factor("31.02.1990") is None and service.read_factor("12345") is None
    salt, digest = service.new_hash("1990-05-17")
    assert digest != service.new_hash("1990-05-17")[1]  # salted
    assert service.hash_factor("1990-05-17", salt) == digest
