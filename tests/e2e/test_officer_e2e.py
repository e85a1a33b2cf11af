"""End to end: citizens reach consular officers through a forum group on the local Bot API
server (real HTTP, the real bot long polling), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.officer.desk import OfficerDesk, Operators, check_sla
from localapi import LocalBotAPI
from localapi.records import Chat, User
from storage.models.base import utcnow
from storage.models.officer import OfficerRequest, RequestMessage
from storage.models.people import AuditEntry
from tests.kit import (
    Conversation,
    RunningBot,
    make_settings,
    running,
    seed_content,
    start_bot,
    until,
    until_async,
)

pytestmark = pytest.mark.asyncio


class Desk(RunningBot):
    """The bot with the consular desk: a forum group where the officer Dana answers."""

    group: Chat
    officer: User

    def topic_messages(self, thread_id: int) -> list[dict[str, Any]]:
        return [m for m in self.server.messages(self.group)
                if m.get("message_thread_id") == thread_id and "forum_topic_created" not in m]

    def general_messages(self) -> list[dict[str, Any]]:
        return [m for m in self.server.messages(self.group) if "message_thread_id" not in m]

    async def officer_says(self, thread_id: int, text: str) -> None:
        await self.server.send_message(self.officer, text, self.group, thread_id=thread_id)

    async def officer_sends_photo(self, thread_id: int, caption: str) -> None:
        """The server's send_photo has no thread; a topic photo is built the same way."""
        server = self.server
        photo = server._photo_sizes(server._store_file(b"\xff\xd8\xff scan", "scan.jpg",
                                                       "image/jpeg"))
        await server._user_sends(self.officer, self.group, {"photo": photo, "caption": caption},
                                 None, thread_id, None)

    async def request(self, rid: int, until: Any = None) -> OfficerRequest:
        """The row once ``until(row)`` holds: the bot commits right after it replies."""
        row = await until_async(lambda: self.get(OfficerRequest, rid),
                                lambda r: r is not None and (until is None or until(r)))
        if row is None:
            raise AssertionError(f"request #{rid} was not stored")
        return row


@pytest_asyncio.fixture
async def desk(db_url: str) -> AsyncIterator[Desk]:
    # The operators read the desk in DEFAULT_LANGUAGE; English here, like the citizens.
    async with running(db_url, Desk, desk=True) as bot:
        yield bot


async def _open(desk: Desk, citizen: Conversation, case: str, country_button: str,
                urgent: bool = False) -> int:
    [prompt] = await citizen.say("/officer")
    assert "Describe your case" in prompt["text"]
    *advice, ask_country = await citizen.say(case, count=2 if urgent else 1)
    assert all("24/7" in m["text"] for m in advice)
    assert "Which country" in ask_country["text"]
    done = await citizen.press(country_button)
    assert "has been sent" in done["text"]
    return int(done["text"].split("#")[1].split()[0])


def _thread_of(desk: Desk, rid: int) -> int:
    created = [m for m in desk.server.messages(desk.group) if "forum_topic_created" in m]
    for m in created:
        if m["forum_topic_created"]["name"].split(" · ")[0].endswith(f"#{rid}"):
            return int(m["message_thread_id"])
    raise AssertionError(f"no topic for request #{rid}: {created}")


async def test_request_from_opening_to_rating_with_photos_both_ways(desk: Desk) -> None:
    aliya = desk.person("Aliya")
    [prompt] = await aliya.say("/officer")
    assert "Describe your case" in prompt["text"]
    [ask_country] = await aliya.say("My passport was stolen in Germany, I fly home on Friday")
    assert "Which country" in ask_country["text"]
    assert any("Germany" in b for b in aliya.buttons(ask_country))
    desk.server.mark(aliya.user)
    await desk.server.send_photo(aliya.user, caption="police report")
    [added] = await desk.server.wait_for_messages(aliya.user)
    assert "Added to your case" in added["text"]
    done = await aliya.press("Germany", ask_country)
    assert "#1" in done["text"] and "has been sent" in done["text"]

    req = await desk.request(1)
    assert (req.status, req.country, req.topic, req.lang, req.urgent) == \
        ("open", "DE", "lost-passport", "en", False)
    topic = desk.group.topics[req.thread_id]
    assert topic.name == "#1 · en · DE"
    in_topic = await until(lambda: len(desk.topic_messages(req.thread_id)) >= 3 and
                            desk.topic_messages(req.thread_id))
    header, text_copy, photo_copy = in_topic[:3]
    assert "#1 · en · DE" in header["text"] and "Topic: Passport lost or stolen" in header["text"]
    assert any("Close" in b for row in desk.server.buttons(header) for b, _ in row)
    assert text_copy["text"] == "My passport was stolen in Germany, I fly home on Friday"
    assert "photo" in photo_copy and photo_copy["caption"] == "police report"
    assert "Aliya" not in str(in_topic)  # only what the citizen sent, not who they are

    # the officer answers in the topic: text, then a photo; the citizen gets copies, no name
    desk.server.mark(aliya.user)
    await desk.officer_says(req.thread_id, "Please come to the consulate in Berlin tomorrow.")
    [reply] = await desk.server.wait_for_messages(aliya.user)
    await desk.officer_sends_photo(req.thread_id, "The form to fill in")
    [photo] = await desk.server.wait_for_messages(aliya.user)
    assert reply["text"] == "Please come to the consulate in Berlin tomorrow."
    assert "photo" in photo and photo["caption"] == "The form to fill in"
    assert "Dana" not in str(reply) + str(photo)
    assert aliya.buttons(reply) == ["✍️ Reply to the officer"]
    assert (await desk.request(1, lambda r: r.first_reply_at)).first_reply_at is not None

    # the citizen follows up: text and location go into the same topic
    await desk.server.send_message(aliya.user, "Thank you, which documents do I bring?")
    assert await until(lambda: any(m.get("text") == "Thank you, which documents do I bring?"
                                    and m["outgoing"] for m in desk.topic_messages(req.thread_id)))
    await desk.server.send_location(aliya.user, 52.52, 13.40)
    located = await until(lambda: [m for m in desk.topic_messages(req.thread_id)
                                    if "location" in m and m["outgoing"]])
    assert located[0]["location"]["latitude"] == 52.52

    # a ready answer in the citizen's language with one command
    desk.server.mark(aliya.user)
    await desk.officer_says(req.thread_id, "/answer lost-passport")
    [card] = await desk.server.wait_for_messages(aliya.user)
    assert "certificate of return" in card["text"]

    # close → the citizen is told and rates; then reopens within the limit
    header_view = desk.topic_messages(req.thread_id)[0]
    close_data = desk.server.buttons(header_view)[0][0][1]
    desk.server.mark(aliya.user)
    await desk.server.press_button(desk.officer, header_view, close_data)
    [closed] = await desk.server.wait_for_messages(aliya.user)
    assert "#1 has been closed" in closed["text"]
    assert aliya.buttons(closed)[:5] == ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]
    assert desk.group.topics[req.thread_id].closed
    assert (await desk.request(1, lambda r: r.status == "closed")).status == "closed"
    thanks = await aliya.press("5 ⭐", closed)
    assert "rated the help 5 of 5" in thanks["text"]
    assert (await desk.request(1, lambda r: r.rating)).rating == 5

    reopened = await aliya.press("Reopen", closed)
    assert "open again" in reopened["text"]
    assert (await desk.request(1, lambda r: r.status == "open")).status == "open"
    assert not desk.group.topics[req.thread_id].closed
    kinds = list(await desk.scalars(select(RequestMessage.kind).order_by(RequestMessage.id)))
    assert kinds == ["text", "photo", "text", "photo", "text", "location", "answer"]


async def test_two_citizens_requests_never_cross(desk: Desk) -> None:
    aliya, bakyt = desk.person("Aliya"), desk.person("Bakyt")
    a = await _open(desk, aliya, "My wallet and documents were stolen in Turkey", "No particular")
    b = await _open(desk, bakyt, "I need a certificate for my marriage in Georgia",
                    "No particular")
    ta, tb = _thread_of(desk, a), _thread_of(desk, b)
    assert ta != tb

    desk.server.mark(aliya.user)
    desk.server.mark(bakyt.user)
    await desk.officer_says(tb, "For Bakyt only")
    [got] = await desk.server.wait_for_messages(bakyt.user)
    assert got["text"] == "For Bakyt only"
    await desk.officer_says(ta, "For Aliya only")
    [got] = await desk.server.wait_for_messages(aliya.user)
    assert got["text"] == "For Aliya only"
    assert "For Bakyt only" not in [m.get("text") for m in desk.server.messages(aliya.user)]
    assert "For Aliya only" not in [m.get("text") for m in desk.server.messages(bakyt.user)]

    await desk.server.send_message(aliya.user, "Aliya's follow-up")
    await desk.server.send_message(bakyt.user, "Bakyt's follow-up")
    await until(lambda: len(desk.topic_messages(ta)) >= 4 and len(desk.topic_messages(tb)) >= 4)
    assert "Aliya's follow-up" in [m.get("text") for m in desk.topic_messages(ta)]
    assert "Aliya's follow-up" not in [m.get("text") for m in desk.topic_messages(tb)]
    assert "Bakyt's follow-up" in [m.get("text") for m in desk.topic_messages(tb)]
    assert "Bakyt's follow-up" not in [m.get("text") for m in desk.topic_messages(ta)]


async def test_citizen_cannot_reach_other_topics(desk: Desk) -> None:
    aliya, bakyt = desk.person("Aliya"), desk.person("Bakyt")
    a = await _open(desk, aliya, "I lost my passport in Spain", "No particular")
    b = await _open(desk, bakyt, "My visa for Japan was refused", "No particular")
    tb = _thread_of(desk, b)
    general_before = len(desk.general_messages())
    b_before = len(desk.topic_messages(tb))

    # a forged "reply" button for Bakyt's request is refused; her text stays in her own topic
    await desk.server.press_callback(aliya.user, 1, f"of:talk:{b}:")
    await asyncio.sleep(0)
    answers = await until(lambda: [v for v in desk.server.callback_answers().values()
                                    if "not yours" in (v.get("text") or "")])
    assert answers
    await desk.server.send_message(aliya.user, "Trying to reach another topic")
    ta = _thread_of(desk, a)
    await until(lambda: any(m.get("text") == "Trying to reach another topic"
                             for m in desk.topic_messages(ta)))
    assert len(desk.topic_messages(tb)) == b_before
    assert len(desk.general_messages()) == general_before
    # a forged close button from a private chat does nothing
    await desk.server.press_callback(aliya.user, 1, f"of:close:{b}:")
    await asyncio.sleep(0.3)
    assert (await desk.request(b)).status == "open"


async def test_unanswered_request_is_flagged_once_when_the_clock_moves(desk: Desk) -> None:
    aliya = desk.person("Aliya")
    rid = await _open(desk, aliya, "My husband was arrested in Dubai, what do I do?",
                      "United Arab Emirates", urgent=True)
    req = await desk.request(rid)
    assert req.urgent and desk.group.topics[req.thread_id].name.startswith("🚨 ")
    # the 24/7 advice came before anything else
    first = [m for m in desk.server.messages(aliya.user) if m.get("outgoing")]
    assert any("24/7" in m.get("text", "") for m in first)

    desk_service = OfficerDesk(desk.bot, desk.settings, desk.app.store, desk.app.i18n)
    factory = desk.app.session_factory
    assert await check_sla(desk_service, factory, utcnow() + timedelta(hours=23)) == []
    later = utcnow() + timedelta(hours=25)
    results = await asyncio.gather(check_sla(desk_service, factory, later),
                                   check_sla(desk_service, factory, later))
    assert sorted(r for res in results for r in res) == [rid]  # two "processes", one flag
    flags = [m for m in desk.topic_messages(req.thread_id) if "⏰" in m.get("text", "")]
    assert len(flags) == 1 and f"#{rid}" in flags[0]["text"]
    assert any("⏰" in m.get("text", "") for m in desk.general_messages())
    assert (await desk.request(rid, lambda r: r.sla_flagged_at)).sla_flagged_at is not None
    assert await check_sla(desk_service, factory, later + timedelta(hours=5)) == []


async def test_without_operators_chat_officer_is_not_offered(db_url: str) -> None:
    """OPERATORS_CHAT_ID unset: /officer explains politely and shows the official route."""
    from aiogram import Bot

    from bot.factory import App
    from localapi.offline import OfflineSession
    from tests.kit.updates import text_update

    await seed_content(db_url)
    app = await App.create(make_settings(db_url))
    session = OfflineSession()
    bot = Bot("42:OFFLINE", session=session)
    try:
        await app.dispatcher().feed_update(bot, text_update(11, "/officer"))
        [reply] = session.requests
        assert "not available in this bot" in reply.text
        labels = [b.text for row in reply.reply_markup.inline_keyboard for b in row]
        assert "🌍 Countries" in labels and "Ministry of Foreign Affairs" in labels
    finally:
        await app.close()


async def _refusals(desk: Desk, count: int) -> list[AuditEntry]:
    """The refused attempts in the audit log, once there are ``count`` (each is written in
    the same unit of work as the update it refuses, so the update has been handled)."""
    query = select(AuditEntry).where(AuditEntry.allowed.is_(False)).order_by(AuditEntry.id)
    rows: list[AuditEntry] = await until_async(lambda: desk.scalars(query),
                                               lambda found: len(found) >= count, timeout=10)
    if len(rows) >= count:
        return rows
    raise AssertionError(f"{len(rows)} refusals in the audit log, expected {count}")


async def test_only_the_groups_administrators_reach_citizens(desk: Desk) -> None:
    aliya = desk.person("Aliya")
    rid = await _open(desk, aliya, "I lost my passport in Spain", "No particular")
    thread = _thread_of(desk, rid)
    member = desk.server.add_user(first_name="Pasha", language_code="en")
    desk.group.members.append(member.id)
    stranger = desk.server.add_user(first_name="Intruder", language_code="en")
    copies_before = len(desk.server.calls_for("copyMessage"))

    desk.server.mark(aliya.user)
    await desk.server.send_message(member, "I am only a member", desk.group, thread_id=thread)
    await _refusals(desk, 1)
    await desk.server.send_message(stranger, "/answer lost-passport", desk.group,
                                   thread_id=thread)
    refused = await _refusals(desk, 2)
    assert [(r.actor_id, r.action, r.target) for r in refused] == [
        (member.id, "request.reply", f"request:{rid}"),
        (stranger.id, "request.answer", f"request:{rid}")]
    assert len(desk.server.calls_for("copyMessage")) == copies_before
    assert "I am only a member" not in [m.get("text") for m in desk.server.messages(aliya.user)]

    # the officer (an administrator) still reaches her, and the citizen got nothing else
    await desk.officer_says(thread, "The officer's answer")
    [got] = await desk.server.wait_for_messages(aliya.user)
    assert got["text"] == "The officer's answer"

    # the close button pressed by a plain member is answered, audited, and closes nothing
    header = desk.topic_messages(thread)[0]
    close = desk.server.buttons(header)[0][0][1]
    await desk.server.press_button(member, header, close)
    refused = await _refusals(desk, 3)
    assert (refused[-1].actor_id, refused[-1].action, refused[-1].target) == \
        (member.id, "request.close", f"request:{rid}")
    answers = await until(lambda: [v for v in desk.server.callback_answers().values()
                                    if "Only the operators" in (v.get("text") or "")])
    assert answers and answers[0].get("show_alert")
    assert (await desk.request(rid)).status == "open"
    assert not desk.group.topics[thread].closed


async def test_operators_are_asked_of_telegram_once_a_minute_not_per_message(
        desk: Desk) -> None:
    aliya = desk.person("Aliya")
    rid = await _open(desk, aliya, "My visa for Japan was refused", "No particular")
    thread = _thread_of(desk, rid)
    for n in range(3):
        desk.server.mark(aliya.user)
        await desk.officer_says(thread, f"Message {n}")
        await desk.server.wait_for_messages(aliya.user)
    assert len(desk.server.calls_for("getChatAdministrators")) == 1
    assert desk.server.calls_for("getChatMember") == []


async def test_a_promoted_member_becomes_an_operator_and_a_demoted_one_stops(
        db_url: str) -> None:
    async with LocalBotAPI() as server:
        officer = server.add_user(first_name="Dana", language_code="en", started=True)
        trainee = server.add_user(first_name="Timur", language_code="en", started=True)
        group = server.add_group("Consular desk", admins=[officer], members=[trainee],
                                 forum=True, bot_admin=True)

        def no_cache(dp: Any) -> None:
            dp["operators"] = Operators(ttl=0)

        async with start_bot(db_url, server, operators_chat_id=group.id,
                             default_language="en", setup=no_cache) as s:
            desk = Desk(s, group=group, officer=officer)
            aliya = desk.person("Aliya")
            rid = await _open(desk, aliya, "I lost my passport", "No particular")
            thread = _thread_of(desk, rid)
            await server.send_message(trainee, "Before promotion", group, thread_id=thread)
            await _refusals(desk, 1)
            server.set_admin(group, trainee)
            server.mark(aliya.user)
            await server.send_message(trainee, "After promotion", group, thread_id=thread)
            [got] = await server.wait_for_messages(aliya.user)
            assert got["text"] == "After promotion"
            server.set_admin(group, trainee, admin=False)
            await server.send_message(trainee, "After demotion", group, thread_id=thread)
            await _refusals(desk, 2)
            texts = [m.get("text") for m in server.messages(aliya.user)]
            assert "Before promotion" not in texts and "After demotion" not in texts


def _group_texts(desk: Desk) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in desk.server.messages(desk.group)]


async def test_forget_me_deletes_the_citizens_topic_from_the_operators_forum(
        desk: Desk) -> None:
    aliya, bakyt = desk.person("Aliya"), desk.person("Bakyt")
    await aliya.say("How do I get a visa to Japan?")
    a = await _open(desk, aliya, "My passport with a Japanese visa was stolen in Osaka",
                    "No particular")
    b = await _open(desk, bakyt, "I need a certificate for my marriage in Georgia",
                    "No particular")
    ta, tb = _thread_of(desk, a), _thread_of(desk, b)
    desk.server.mark(aliya.user)
    await desk.officer_says(ta, "Please send a photo of the police report")
    await desk.server.wait_for_messages(aliya.user)
    await desk.server.send_message(aliya.user, "Here is what the police wrote")
    assert await until(lambda: "Here is what the police wrote" in _group_texts(desk))

    [ask] = await aliya.say("/forget_me")
    done = await aliya.press("Yes, erase everything", ask)
    assert "• Requests to consular officers (1)" in done["text"]
    assert "• Your conversations with consular officers, deleted from their chat (1)" \
        in done["text"]
    assert "Questions you asked, now counted without their text or your name (1)" \
        in done["text"]
    assert "Your ratings" not in done["text"] and "still in the" not in done["text"]

    assert ta not in desk.group.topics
    assert [m for m in desk.server.messages(desk.group) if m.get("message_thread_id") == ta] \
        == []
    texts = _group_texts(desk)
    assert not any("Osaka" in t or "police" in t for t in texts)
    assert tb in desk.group.topics  # the other citizen's request is untouched
    assert "I need a certificate for my marriage in Georgia" in texts
    # the bot commits right after it replies
    left = await until_async(lambda: desk.scalars(select(OfficerRequest.id)),
                             lambda found: found == [b])
    assert left == [b]


async def test_forget_me_says_which_copies_telegram_would_not_let_it_delete(
        desk: Desk) -> None:
    aliya = desk.person("Aliya")
    rid = await _open(desk, aliya, "My passport was stolen in Rome", "No particular")
    thread = _thread_of(desk, rid)
    desk.server.set_admin(desk.group, desk.bot.id, admin=False)  # no right to delete topics
    desk.server.advance(49 * 3600)  # and the copies are older than 48 hours

    [ask] = await aliya.say("/forget_me")
    done = await aliya.press("Yes, erase everything", ask)
    assert "• Requests to consular officers (1)" in done["text"]
    assert "2 messages with your words are still in the consular officers' chat" \
        in done["text"]
    assert "within 48 hours" in done["text"]
    assert "deleted from their chat" not in done["text"]
    note = await until(lambda: [m for m in desk.topic_messages(thread)
                                 if m.get("text", "").startswith("🗑")])
    assert f"#{rid}" in note[0]["text"] and "please delete the topic" in note[0]["text"]
    assert "Rome" not in note[0]["text"]


async def test_forget_me_deletes_the_bots_copies_one_by_one_within_48_hours(
        desk: Desk) -> None:
    aliya = desk.person("Aliya")
    rid = await _open(desk, aliya, "My passport was stolen in Rome", "No particular")
    thread = _thread_of(desk, rid)
    desk.server.mark(aliya.user)
    await desk.officer_says(thread, "Officer's own words")
    await desk.server.wait_for_messages(aliya.user)
    desk.server.set_admin(desk.group, desk.bot.id, admin=False)

    [ask] = await aliya.say("/forget_me")
    done = await aliya.press("Yes, erase everything", ask)
    assert "• Your messages in the consular officers' chat (2)" in done["text"]
    assert "still in the" not in done["text"]
    texts = [m.get("text", "") for m in desk.topic_messages(thread)]
    assert not any("Rome" in t for t in texts)  # the header and the copy went
    assert "Officer's own words" in texts  # a member bot may delete only its own messages


def _t(lang: str, msgid: str) -> str:
    from bot.shared.translation import catalogs

    text = catalogs()[lang].gettext(msgid)
    assert text != msgid, f"{msgid!r} has no {lang} translation"
    return text


async def test_desk_reads_operators_language_and_citizen_gets_their_own(db_url: str) -> None:
    """OPERATORS_LANGUAGE=ru, DEFAULT_LANGUAGE=en, a Kazakh-speaking citizen."""
    async with LocalBotAPI() as server:
        officer = server.add_user(first_name="Dana", language_code="en", started=True)
        group = server.add_group("Consular desk", admins=[officer], forum=True, bot_admin=True)
        async with start_bot(db_url, server, operators_chat_id=group.id,
                             default_language="en", operators_language="ru") as s:
            desk = Desk(s, group=group, officer=officer)
            aigul = Conversation(server, server.add_user(first_name="Aigul", language_code="kk"))
            [prompt] = await aigul.say("/officer")
            assert prompt["text"].startswith(_t("kk", "Describe your case in your own words. "
                                                "You can send several messages, photos of "
                                                "documents or your location. Only consular "
                                                "officers will see them."))
            [ask] = await aigul.say("Германияда төлқұжатым ұрланды, не істеуім керек?")
            done = await aigul.press("Германия", ask)
            number = re.search(r"[#№](\d+)", done["text"])
            assert number, done["text"]
            rid = int(number.group(1))
            thread = _thread_of(desk, rid)
            header = (await until(lambda: desk.topic_messages(thread)))[0]["text"]
            assert "Страна: 🇩🇪 Германия" in header
            assert "Тема: Паспорт утерян или украден" in header
            assert "Язык: Қазақша." in header
            assert "Germany" not in header and "Language" not in header

            server.mark(aigul.user)
            await desk.officer_says(thread, "Сәлеметсіз бе! Консулдыққа келіңіз.")
            [reply] = await server.wait_for_messages(aigul.user)
            assert aigul.buttons(reply) == [_t("kk", "✍️ Reply to the officer")]

            # she switches to Russian: what the desk sends her from now on is in Russian
            [menu] = await aigul.say("/language")
            await aigul.press("Русский", menu)
            server.mark(aigul.user)
            await desk.officer_says(thread, "/answer lost-passport")
            [card] = await server.wait_for_messages(aigul.user)
            assert "Паспорт утерян или украден" in card["text"]
            note = await until(lambda: [m for m in desk.topic_messages(thread)
                                         if m.get("text", "").startswith("📎")])
            assert note[0]["text"] == "📎 Отправлен ответ «Паспорт утерян или украден» " \
                                      "(язык: Русский)."

            header_view = desk.topic_messages(thread)[0]
            await server.press_button(officer, header_view, server.buttons(header_view)[0][0][1])
            [closed] = await server.wait_for_messages(aigul.user)
            assert closed["text"].startswith(f"Обращение №{rid} закрыто")
            assert aigul.buttons(closed)[-1] == _t("ru", "🔄 Reopen the request")
            assert _t("ru", "✅ Request closed.") in [m.get("text") for m in
                                                     desk.topic_messages(thread)]
            assert await until(lambda: [v for v in server.callback_answers().values()
                                         if v.get("text") == _t("ru", "Closed.")])

            rated = await aigul.press("4 ⭐", closed)
            assert rated["text"] == _t("ru", "Thank you! You rated the help {rating} of 5.") \
                .format(rating=4)
            reopened = await aigul.press(_t("ru", "🔄 Reopen the request"), closed)
            assert reopened["text"] == _t("ru", "Request #{number} is open again. Write what "
                                                "is still unresolved.").format(number=rid)
            assert await until(lambda: _t("ru", "🔄 The citizen reopened the request.") in
                                [m.get("text") for m in desk.topic_messages(thread)])
