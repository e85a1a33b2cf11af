"""Alerts end to end: an editor issues one, an administrator approves, and it reaches exactly
the followers, the travellers in the country today and the following groups, each in their
language, and nobody else; the card shows it on top until it expires."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from sqlalchemy import func, select

from bot.travel import alerts as svc
from bot.travel.alert_board import Board
from bot.travel.trips import local_today
from storage.models.people import Role, User
from storage.models.publishing import ChatRow, Delivery, Post
from storage.models.travel import CountryFollow, Trip
from storage.publishing.posts import AlertDTO
from tests.e2e.travel_kit import TravelBot, travel_bot

EDITOR, ADMIN = 900_000_001, 900_000_002


@pytest_asyncio.fixture
async def tb(db_url: str) -> AsyncIterator[TravelBot]:
    async for running in travel_bot(db_url):
        yield running


def test_severity_and_approval_rules() -> None:
    assert svc.needs_approval("editor", "leave_now", True)
    assert not svc.needs_approval("admin", "leave_now", True)
    assert not svc.needs_approval("admin", "caution", True)  # a lone administrator can alert
    assert not svc.needs_approval("editor", "caution", False)
    assert svc.fill_missing({"ru": "R"}) == {"kk": "R", "ru": "R", "en": "R"}
    assert svc.fill_missing({"kk": "K", "en": "E"}) == {"kk": "K", "ru": "K", "en": "E"}


def test_board_shows_until_expiry() -> None:
    from storage.models.base import utcnow

    now = utcnow()
    board = Board()
    board.replace([AlertDTO(1, 1, "sending", "DE", "caution", {"en": "<b>A</b>"},
                            now + timedelta(hours=1), 1)])
    assert board.banner("DE", "en", now) == "<b>A</b>"
    assert board.banner("DE", "en", now + timedelta(hours=2)) == ""
    assert board.banner("TR", "en", now) == ""


async def test_each_dispatcher_builds_its_own_board_and_its_answers_read_that_one() -> None:
    """The board is built in the factory and handed in, not a module global."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from bot.answers.store import ContentStore
    from bot.factory import create_dispatcher
    from bot.shared.i18n import create_i18n
    from storage.models.base import utcnow
    from tests.kit import CONTENT, make_settings

    settings = make_settings("sqlite+aiosqlite:///unused.db")
    store = ContentStore.from_files(CONTENT)
    engine = create_async_engine(settings.db.url)
    factory = async_sessionmaker(engine)
    one, two = (create_dispatcher(settings, store=store, session_factory=factory,
                                  i18n=create_i18n("en")) for _ in range(2))
    try:
        assert isinstance(one["alert_board"], Board)
        assert one["alert_board"] is not two["alert_board"]
        one["alert_board"].replace([AlertDTO(1, 1, "sending", "TR", "leave_now",
                                             {"en": "<b>Leave Turkey now</b>"},
                                             utcnow() + timedelta(hours=1), 1)])
        assert one["answers"].answer("Turkey", lang="en").screen.html.startswith(
            "<b>Leave Turkey now</b>")
        assert "Leave Turkey now" not in two["answers"].answer("Turkey", lang="en").screen.html
    finally:
        await engine.dispose()


async def test_the_one_role_gate_reads_admin_ids_then_the_roles_table(sqlite_url: str) -> None:
    """Alerts and the editors' staff router ask the same lookup (bot/shared/roles)."""
    from bot.shared import roles
    from storage.db import create_engine, create_session_factory
    from storage.roles import RoleRepo
    from tests.kit import make_settings

    settings = make_settings(sqlite_url, admin_ids=(ADMIN,))
    engine = create_engine(sqlite_url)
    try:
        async with create_session_factory(engine)() as session:
            await RoleRepo(session).grant(EDITOR, "editor")
            await RoleRepo(session).grant(7, "admin")
            assert await roles.role_of(session, settings, ADMIN) == "admin"  # ADMIN_IDS only
            assert await roles.role_of(session, settings, EDITOR) == "editor"
            assert await roles.role_of(session, settings, 8) is None
            assert await roles.admins(session, settings) == [7, ADMIN]
            await RoleRepo(session).revoke(EDITOR)
            assert await roles.role_of(session, settings, EDITOR) is None  # read now
    finally:
        await engine.dispose()


async def _people(tb: TravelBot) -> dict[str, object]:
    server = tb.server
    today = local_today(tb.clock.now, tb.settings.tz)
    p = {name: server.add_user(first_name=name, language_code=code, started=True)
         for name, code in (("follower_kk", "kk"), ("follower_ru", "ru"), ("traveller_en", "en"),
                            ("past_traveller", "en"), ("other_country", "en"),
                            ("nobody", "en"))}
    p["editor"] = server.add_user(first_name="Editor", language_code="en", started=True)
    p["admin"] = server.add_user(first_name="Admin", language_code="en", started=True)
    group = server.add_group("Almaty travellers", admins=[p["admin"]])
    quiet = server.add_group("Other group", admins=[p["admin"]])
    async with tb.app.session_factory() as session, session.begin():
        session.add_all([
            Role(user_id=p["editor"].id, role="editor"), Role(user_id=p["admin"].id, role="admin"),
            CountryFollow(user_id=p["follower_kk"].id, country="DE", lang="kk"),
            CountryFollow(user_id=p["follower_ru"].id, country="DE", lang="en"),
            User(id=p["follower_ru"].id, language="ru"),  # the chosen language wins
            CountryFollow(user_id=p["other_country"].id, country="TR", lang="en"),
            Trip(user_id=p["traveller_en"].id, lang="en", country="DE",
                 starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=3),
                 phone="+77015550101"),
            Trip(user_id=p["past_traveller"].id, lang="en", country="DE",
                 starts_on=today - timedelta(days=9), ends_on=today - timedelta(days=2)),
            ChatRow(chat_id=group.id, kind="group", title=group.title, languages="ru",
                    countries={"iso": ["DE"]}),
            ChatRow(chat_id=quiet.id, kind="group", title=quiet.title, languages="en",
                    countries={"iso": ["TR"]}),
        ])
    p["group"], p["quiet"] = group, quiet
    return p


async def test_alert_reaches_exactly_the_right_people_in_their_languages(tb: TravelBot) -> None:
    p = await _people(tb)
    server = tb.server
    editor = tb.person("x")
    editor.user = p["editor"]  # type: ignore[assignment]

    [ask] = await editor.say("/alert Germany")
    assert "How severe?" in ask["text"]
    kk = await editor.press("Caution")
    assert "Kazakh" in kk["text"]
    [ru] = await editor.say("Берлинде ереуіл.")
    assert "Russian" in ru["text"]
    [en] = await editor.say("Забастовка в Берлине.")
    assert "English" in en["text"]
    [expiry] = await editor.say("Strike in Berlin <today>.")
    assert "How long" in expiry["text"]
    preview = await editor.press("3 days")
    assert "Travel alert: 🇩🇪 Germany" in preview["text"] and "Strike in Berlin" in preview["text"]
    server.mark(p["admin"])
    submitted = await editor.press("Submit")
    assert "Submitted for approval" in submitted["text"]

    [request] = await server.wait_for_messages(p["admin"])
    assert "waits for your approval" in request["text"]
    # nothing is sent before approval
    [post] = await tb.eventually(select(Post).where(Post.kind == "alert"))
    assert post.status == "pending" and post.priority == svc.ALERT_PRIORITY

    admin = tb.person("y")
    admin.user = p["admin"]  # type: ignore[assignment]
    for name in ("follower_kk", "follower_ru", "traveller_en", "group"):
        server.mark(p[name])
    going = await admin.press("Approve", request)
    assert "going out to 4 recipients" in going["text"]

    [kk_msg] = await server.wait_for_messages(p["follower_kk"])
    [ru_msg] = await server.wait_for_messages(p["follower_ru"])
    [en_msg] = await server.wait_for_messages(p["traveller_en"])
    [group_msg] = await server.wait_for_messages(p["group"])
    assert "Берлинде ереуіл" in kk_msg["text"] and "Германия" in kk_msg["text"]
    assert "Забастовка в Берлине" in ru_msg["text"]
    assert "Strike in Berlin &lt;today&gt;" not in en_msg["text"]  # escaped, shown as typed
    assert "Strike in Berlin <today>." in en_msg["text"] and "Caution" in en_msg["text"]
    assert "Забастовка в Берлине" in group_msg["text"]
    for name in ("past_traveller", "other_country", "nobody", "quiet"):
        assert not [m for m in server.messages(p[name]) if m["outgoing"]], name
    assert all("+7701" not in m["text"] for m in (kk_msg, ru_msg, en_msg, group_msg))

    # The messages arrived; their rows reach "sent" when the engine's group commit lands.
    delivered = await tb.settled(
        select(func.count()).select_from(Delivery).where(Delivery.state == "sent"), 4,
        timeout=30.0)
    assert delivered == 4
    # the editor's report counts what it reached
    sent = await tb.scalars(select(Delivery.chat_id).where(Delivery.state == "sent"))
    assert sorted(sent) == sorted(p[n].id for n in ("follower_kk", "follower_ru",
                                                    "traveller_en", "group"))

    # the card shows the alert on top while it is active
    card_owner = tb.person("Reader", "en")
    await card_owner.say("/start")
    countries = await card_owner.press("Countries")
    germany = await card_owner.press("Germany", countries)
    assert germany["text"].index("Travel alert") < germany["text"].index("Visa")
    assert tb.failed_calls() == []


async def test_admin_leave_now_goes_at_once_and_citizen_follows_from_card(tb: TravelBot) -> None:
    server = tb.server
    admin_user = server.add_user(first_name="Admin", language_code="en", started=True)
    async with tb.app.session_factory() as session, session.begin():
        session.add(Role(user_id=admin_user.id, role="admin"))
    citizen = tb.person("Dana", "en")
    await citizen.say("/start")
    countries = await citizen.press("Countries")
    card = await citizen.press("Türkiye", countries) if "Türkiye" in " ".join(
        citizen.buttons(countries)) else None
    if card is None:
        [card] = await citizen.say("Turkey")
    server.mark(citizen.user)
    await server.press_button(citizen.user, card, text="🔔 Follow alerts")
    [followed] = await server.wait_for_messages(citizen.user)
    assert "You will receive travel alerts for Türkiye" in followed["text"]
    [listing] = await citizen.say("/alerts")
    assert "Türkiye" in listing["text"]

    admin = tb.person("a")
    admin.user = admin_user
    await admin.say("/alert Turkey")
    await admin.press("Leave now")
    await admin.press("Skip this language")
    await admin.press("Skip this language")
    await admin.say("Leave the border area now.")
    await admin.press("1 day")
    server.mark(citizen.user)
    going = await admin.press("Submit")
    assert "going out to 1 recipients" in going["text"]
    [alert] = await server.wait_for_messages(citizen.user)
    assert "Leave the border area now." in alert["text"] and "Leave now" in alert["text"]

    stopped = await citizen.press("Stop Türkiye", listing)
    assert "Stopped" in stopped["text"]
    assert await tb.settled(select(CountryFollow.user_id), None) is None


async def test_citizens_cannot_issue_alerts(tb: TravelBot) -> None:
    citizen = tb.person("Plain", "en")
    [reply] = await citizen.say("/alert Germany")
    assert "How severe" not in reply["text"]
    forged = await tb.server.press_callback(citizen.user, reply["message_id"], "as:submit:")
    assert forged
    assert await tb.scalars(select(Post)) == []
