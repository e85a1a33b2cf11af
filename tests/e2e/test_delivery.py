"""The delivery engine against the local Bot API server with Telegram's flood limits on and
injected faults, on SQLite and PostgreSQL: every recipient ends in the right final state,
nothing is delivered twice, the sender itself causes no 429."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbound.delivery import EngineOptions
from bot.publishing.publisher import Publisher
from bot.shared.i18n import create_i18n
from localapi import LocalBotAPI
from localapi.records import Faults
from storage.models.people import AuditEntry
from storage.models.publishing import ChatRow, NewsSubscription
from tests.e2e.publishing_kit import TEXTS, World, add_post, build_world, ledger, post_row, runs
from tests.kit import database, make_bot, make_settings

SCALE = 20.0  # the server's clock and the limiter's run 20x faster than real time


@dataclass
class Rig:
    server: LocalBotAPI
    factory: async_sessionmaker[AsyncSession]
    publisher: Publisher


@pytest_asyncio.fixture
async def rig(db_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    faults: Faults = getattr(request, "param", None) or Faults()
    server = LocalBotAPI(flood_limits=True, time_scale=SCALE, faults=faults)
    await server.start()
    token = server.register_bot(username="embassy_bot")
    bot = make_bot(server, token)
    settings = make_settings(db_url, api_url=server.base_url, default_language="en")
    options = EngineOptions(workers=8, request_timeout=1.0, backoff=0.5)
    async with database(db_url) as factory:
        publisher = Publisher(bot, factory, settings, create_i18n("en"), time_scale=SCALE,
                              options=options, scheduler=False)
        await publisher.start()
        try:
            yield Rig(server, factory, publisher)
        finally:
            await publisher.stop()
            await bot.session.close()
            await server.stop()


async def publish(rig: Rig, world: World, **post: object) -> int:
    post_id = await add_post(rig.factory, world.author, **post)  # type: ignore[arg-type]
    await rig.publisher.enqueue(post_id)
    await rig.publisher.wait_idle()
    return post_id


async def test_every_audience_gets_its_language_once_within_the_limits(rig: Rig) -> None:
    world = await build_world(rig.server, rig.factory, citizens={"kk": 5, "ru": 20, "en": 25},
                              groups=6, channels=("kk,ru", "en"))
    post_id = await publish(rig, world, texts={"ru": TEXTS["ru"], "en": TEXTS["en"]},
                            fallbacks={"kk": "ru"})

    assert rig.server.stats.too_many_requests == 0
    for cid, lang in world.citizens.items():
        sent = world.outgoing(cid)
        assert len(sent) == 1, cid
        want = "Новость" if lang in ("kk", "ru") else "News"
        assert want in sent[0]["html"]
        label = "Подробнее" if lang in ("kk", "ru") else "Read more"  # same language as text
        assert rig.server.buttons(sent[0]) == [[(label, "https://mfa.gov.kz")]]
    for cid in world.groups:
        assert len(world.outgoing(cid)) == 1
    first_channel, second_channel = world.channels
    assert len(world.outgoing(first_channel)) == 2  # kk (fallback to ru) and ru
    assert [m["html"] for m in world.outgoing(second_channel)] == [TEXTS["en"]]

    rows = await ledger(rig.factory, post_id)
    assert {r.state for r in rows} == {"sent"}
    assert all(r.message_id for r in rows)
    assert len(rows) == 50 + 6 + 3
    assert (await post_row(rig.factory, post_id)).status == "sent"
    (run,) = await runs(rig.factory, post_id)
    assert run.status == "done" and run.totals == {"sent": 59}

    author = world.outgoing(world.author)  # a run this short gets no progress message
    assert f"Post #{post_id}: delivery report" in author[-1]["html"]
    assert "Sent: 59" in author[-1]["html"]


async def test_a_missing_language_without_fallback_is_skipped(rig: Rig) -> None:
    world = await build_world(rig.server, rig.factory, citizens={"kk": 3, "en": 4})
    post_id = await publish(rig, world, texts={"en": TEXTS["en"]}, fallbacks={"kk": "skip"},
                            channels=False, groups=False)
    states = {r.chat_id: r.state for r in await ledger(rig.factory, post_id)}
    assert {states[c] for c, lang in world.citizens.items() if lang == "kk"} == {"skipped"}
    assert {states[c] for c, lang in world.citizens.items() if lang == "en"} == {"sent"}
    assert sum(world.received().values()) == 4
    report = await rig.publisher.report(post_id, "en")
    assert "Sent: 4" in report and "Skipped: 3" in report


async def test_a_429_storm_is_waited_out_and_each_message_recorded_once(rig: Rig) -> None:
    world = await build_world(rig.server, rig.factory, citizens={"en": 40}, groups=3)
    post_id = await add_post(rig.factory, world.author)
    # The storm is renewed until the run has met it: writing the run's ledger takes a
    # while on a busy machine, and a storm of fixed length could end before the first send.
    rig.server.storm_429(6.0)
    await rig.publisher.enqueue(post_id)
    idle = asyncio.ensure_future(rig.publisher.wait_idle())
    while rig.server.stats.too_many_requests == 0 and not idle.done():
        rig.server.storm_429(6.0)
        await asyncio.sleep(0.01)
    await idle
    assert rig.server.stats.too_many_requests > 0  # the storm answered 429
    assert set(world.received().values()) == {1}
    rows = await ledger(rig.factory, post_id)
    assert {r.state for r in rows} == {"sent"}
    assert max(r.attempts for r in rows) == 1  # a 429 retry is the same attempt


@pytest.mark.parametrize("rig", [Faults(error_rate_5xx=0.05, seed=7)], indirect=True)
async def test_five_percent_5xx_are_retried_with_backoff(rig: Rig) -> None:
    world = await build_world(rig.server, rig.factory, citizens={"en": 80}, groups=4)
    post_id = await publish(rig, world)
    errors = sum(n for text, n in rig.server.stats.errors.items() if "Gateway" in text
                 or "Internal" in text)
    assert errors > 0
    assert rig.server.stats.too_many_requests == 0
    assert set(world.received().values()) == {1}
    assert {r.state for r in await ledger(rig.factory, post_id)} == {"sent"}


@pytest.mark.parametrize(
    "rig", [Faults(timeout_rate=0.1, hang_seconds=2.0, seed=3)], indirect=True)
async def test_timeouts_are_retried_and_nothing_arrives_twice(rig: Rig) -> None:
    world = await build_world(rig.server, rig.factory, citizens={"en": 30})
    post_id = await publish(rig, world, channels=False, groups=False)
    assert rig.server.stats.calls_per_method["sendMessage"] > 30 + 2  # hung requests retried
    assert set(world.received().values()) == {1}
    assert {r.state for r in await ledger(rig.factory, post_id)} == {"sent"}


@pytest.mark.parametrize(
    "rig", [Faults(error_rate_5xx=1.0, methods={"sendMessage"})], indirect=True)
async def test_a_recipient_failing_every_time_ends_failed_after_bounded_tries(rig: Rig) -> None:
    world = await build_world(rig.server, rig.factory, citizens={"en": 2})
    post_id = await publish(rig, world, channels=False, groups=False)
    rows = await ledger(rig.factory, post_id)
    assert {r.state for r in rows} == {"failed"}
    assert all(r.error and r.error.startswith("gave up after 5 tries") for r in rows)
    assert (await post_row(rig.factory, post_id)).status == "failed"


async def test_blocked_and_deleted_users_are_marked_and_unsubscribed(rig: Rig) -> None:
    world = await build_world(rig.server, rig.factory, citizens={"en": 6})
    blocked, deleted, *_ = world.citizens
    rig.server.block(blocked)
    rig.server.deactivate(deleted)
    post_id = await publish(rig, world, channels=False, groups=False)
    states = {r.chat_id: r.state for r in await ledger(rig.factory, post_id)}
    assert states[blocked] == states[deleted] == "blocked"
    assert sum(s == "sent" for s in states.values()) == 4
    async with rig.factory() as session:
        subs = {s.user_id: s for s in await session.scalars(select(NewsSubscription))}
    assert not subs[blocked].active and "blocked" in (subs[blocked].inactive_reason or "")
    assert not subs[deleted].active and "deactivated" in (subs[deleted].inactive_reason or "")
    assert sum(s.active for s in subs.values()) == 4
    assert "Blocked the bot: 2" in await rig.publisher.report(post_id, "en")


async def test_a_migrated_group_gets_the_post_at_its_new_id(rig: Rig) -> None:
    world = await build_world(rig.server, rig.factory, citizens={}, groups=2)
    old, other = world.groups
    new = rig.server.migrate_group(old)
    post_id = await publish(rig, world, citizens=[])
    assert [m["html"] for m in world.outgoing(new)] == [TEXTS[world.groups[old]]]
    assert world.outgoing(old) == [] or all(not m.get("text") for m in world.outgoing(old))
    assert rig.server.stats.sent_per_chat[old] == 0
    rows = {r.chat_id: r for r in await ledger(rig.factory, post_id)}
    assert rows[new].state == "sent" and rows[new].chat_kind == "supergroup"
    async with rig.factory() as session:
        chat = await session.get(ChatRow, new)
        assert chat is not None and chat.kind == "supergroup" and chat.active
        assert await session.get(ChatRow, old) is None
    assert rows[other].state == "sent"


async def test_removed_and_kicked_groups_are_made_inactive(rig: Rig) -> None:
    world = await build_world(rig.server, rig.factory, citizens={"en": 2}, groups=3)
    removed, kicked, fine = world.groups
    rig.server.remove_chat(removed)
    rig.server.kick_bot(kicked)
    post_id = await publish(rig, world)
    rows = {r.chat_id: r for r in await ledger(rig.factory, post_id)}
    assert rows[removed].state == "failed" and "chat not found" in (rows[removed].error or "")
    assert rows[kicked].state == "failed" and "kicked" in (rows[kicked].error or "")
    assert rows[fine].state == "sent"
    async with rig.factory() as session:
        chats = {c.chat_id: c for c in await session.scalars(select(ChatRow))}
    assert not chats[removed].active and not chats[kicked].active and chats[fine].active
    assert (await post_row(rig.factory, post_id)).status == "sent"


async def test_unschedule_stops_a_run_and_skips_the_rest(rig: Rig) -> None:
    world = await build_world(rig.server, rig.factory, citizens={"en": 300})
    post_id = await add_post(rig.factory, world.author, channels=False, groups=False)
    await rig.publisher.enqueue(post_id)
    while not world.outgoing(world.author):  # the progress message comes after 5 s
        await rig.server.sleep(0.5)
    await rig.publisher.unschedule(post_id)
    await rig.publisher.wait_idle()
    rows = await ledger(rig.factory, post_id)
    sent = [r for r in rows if r.state == "sent"]
    assert 0 < len(sent) < 300
    assert {r.state for r in rows} == {"sent", "skipped"}
    assert sum(world.received().values()) == len(sent)
    (run,) = await runs(rig.factory, post_id)
    assert run.status == "cancelled"
    assert (await post_row(rig.factory, post_id)).status == "cancelled"
    async with rig.factory() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "post.published" in actions and "post.cancelled" in actions
    progress = world.outgoing(world.author)
    assert len(progress) == 1 and f"Post #{post_id} is being sent:" in progress[0]["html"]


async def test_edit_published_updates_channel_and_group_messages(rig: Rig) -> None:
    world = await build_world(rig.server, rig.factory, citizens={"en": 2}, groups=1,
                              channels=("kk,en",))
    post_id = await publish(rig, world)
    async with rig.factory() as session, session.begin():
        from storage.models.publishing import Post

        post = await session.get(Post, post_id)
        assert post is not None
        post.texts = {k: v.replace("</b>", "</b> (corrected)") for k, v in post.texts.items()}
    assert await rig.publisher.edit_published(post_id) == (3, 0)
    (channel,) = world.channels
    assert sorted(m["html"] for m in world.outgoing(channel)) == sorted([
        TEXTS["kk"].replace("</b>", "</b> (corrected)"),
        TEXTS["en"].replace("</b>", "</b> (corrected)"),
    ])
    assert all(m["edited"] for m in world.outgoing(channel))
    citizen = next(iter(world.citizens))
    assert world.outgoing(citizen)[0]["html"] == TEXTS["en"]  # private copies are not edited


async def test_rows_of_a_hung_claimant_come_back_when_its_lease_lapses(rig: Rig) -> None:
    """Another process claimed part of the run and hung (alive, its lease not renewed): its
    rows go back to pending when the lease lapses, and the run completes, each once."""
    from datetime import timedelta

    from bot.outbound.delivery import DeliveryEngine
    from bot.outbound.ratelimit import SendLimiter
    from storage.publishing.posts import PostRepo
    from storage.publishing.runs import PublishingRepo

    world = await build_world(rig.server, rig.factory, citizens={"en": 40})
    post_id = await add_post(rig.factory, world.author, channels=False, groups=False)
    hung = DeliveryEngine(rig.publisher.bot, rig.factory, SendLimiter(), worker_id="hung:1")
    await hung.start()  # on PostgreSQL it now holds its liveness lock: it looks alive
    try:
        async with rig.factory() as session, session.begin():
            repo = PublishingRepo(session)
            run_id = await repo.open_run(post_id, "post:lease-test", 0)
            assert await repo.write_ledger(run_id, {"citizens": ["en"]}, lambda _: True) == 40
            await PostRepo(session).mark(post_id, "sending")
            claimed = await repo.claim_batch(run_id, hung.worker_id, 15, timedelta(seconds=1))
        assert len(claimed) == 15
        await rig.publisher.resume_runs()
        await rig.publisher.wait_idle()
    finally:
        await hung.stop()
    rows = await ledger(rig.factory, post_id)
    assert {r.state for r in rows} == {"sent"}
    assert {r.claimed_by for r in rows} == {rig.publisher.engine.worker_id}
    assert set(world.received().values()) == {1}
    assert max(r.attempts for r in rows) == 2  # the hung claim, then the real one
    (run,) = await runs(rig.factory, post_id)
    assert run.status == "done"


async def test_a_claimant_slower_than_its_lease_sends_no_row_twice(
    rig: Rig, db_url: str,
) -> None:
    """A live process (its liveness lock held) claimed part of the run, then sends slowly and
    cannot renew its leases: once a lease lapses the rows go to another process, so the slow
    one must not send them any more. Each recipient gets the post once."""
    from bot.outbound.delivery import DeliveryEngine
    from bot.outbound.ratelimit import SendLimiter
    from storage.publishing.posts import PostRepo
    from storage.publishing.runs import PublishingRepo

    if not db_url.startswith("postgresql"):
        pytest.skip("on SQLite one process works the ledger: no other claimant is alive")
    world = await build_world(rig.server, rig.factory, citizens={"en": 40})
    post_id = await add_post(rig.factory, world.author, channels=False, groups=False)
    slow = DeliveryEngine(
        rig.publisher.bot, rig.factory, SendLimiter(rate=4.0),
        EngineOptions(workers=2, claim_batch=15, lease=2.0, request_timeout=1.0),
        worker_id="slow:1")
    slow._heartbeat = lambda *_: asyncio.sleep(3600)  # type: ignore[method-assign]
    await slow.start()
    stop = asyncio.Event()
    try:
        async with rig.factory() as session, session.begin():
            repo = PublishingRepo(session)
            run_id = await repo.open_run(post_id, "post:slow-test", 0)
            assert await repo.write_ledger(run_id, {"citizens": ["en"]}, lambda _: True) == 40
            posts = PostRepo(session)
            await posts.mark(post_id, "sending")
            post = await posts.find(post_id)
        assert post is not None
        slow_run = asyncio.create_task(slow.run(run_id, post, 0, stop))
        while not any(r.claimed_by == "slow:1" for r in await ledger(rig.factory, post_id)):  # noqa: ASYNC110 - the ledger
            await asyncio.sleep(0.01)
        await rig.publisher.resume_runs()
        await rig.publisher.wait_idle()
        stop.set()
        await asyncio.wait_for(slow_run, 10)
    finally:
        stop.set()
        await slow.stop()
    rows = await ledger(rig.factory, post_id)
    assert {r.state for r in rows} == {"sent"}
    assert set(world.received().values()) == {1}, sorted(world.received().values())
    assert sum(1 for r in rows if r.claimed_by == "slow:1") >= 1  # the slow one sent some


async def test_twenty_five_posts_at_once_every_editor_notice_arrives(rig: Rig) -> None:
    """Progress and report messages to the author are paced per chat and retried like any
    send: with 25 posts going out at once none is lost and the server answers no 429."""
    world = await build_world(rig.server, rig.factory, citizens={"en": 3})
    posts = [await add_post(rig.factory, world.author, channels=False, groups=False)
             for _ in range(25)]
    for post_id in posts:
        await rig.publisher.enqueue(post_id)
    await rig.publisher.wait_idle()
    assert rig.server.stats.too_many_requests == 0, [
        (c.method, c.params.get("chat_id"), round(c.at, 2)) for c in rig.server.calls
        if c.status == 429]
    author = [m["html"] for m in world.outgoing(world.author)]
    for post_id in posts:
        assert sum(f"Post #{post_id}: delivery report" in m for m in author) == 1, post_id
    assert set(world.received().values()) == {25}


PREVIEWED = ("text", "entities", "caption", "caption_entities", "photo", "document",
             "reply_markup")


@pytest.mark.parametrize("kind", ["photo", "document", None])
async def test_the_preview_is_byte_for_byte_what_each_audience_receives(
        rig: Rig, kind: str | None) -> None:
    """The editor's preview and the delivered message go through one renderer: the same
    text, entities, media and buttons for every language, the fallback's included."""
    from aiogram.types import BufferedInputFile

    from bot.shared.i18n import locale
    from handlers.publishing.view import send_previews
    from storage.publishing.posts import PostRepo

    world = await build_world(rig.server, rig.factory, citizens={"kk": 1, "ru": 1, "en": 1})
    bot = rig.publisher.bot
    media = None
    if kind == "photo":
        sent = await bot.send_photo(world.author, BufferedInputFile(b"\xff\xd8jpeg", "a.jpg"))
        assert sent.photo
        media = {"type": "photo", "file_id": sent.photo[-1].file_id}
    elif kind == "document":
        sent = await bot.send_document(world.author, BufferedInputFile(b"%PDF", "a.pdf"))
        assert sent.document
        media = {"type": "document", "file_id": sent.document.file_id}
    texts = {"kk": TEXTS["kk"], "en": '<b>News</b> <i>en</i> <a href="https://mfa.gov.kz">link</a>'}
    post_id = await add_post(rig.factory, world.author, texts=texts, fallbacks={"ru": "kk"},
                             channels=False, groups=False)
    async with rig.factory() as session, session.begin():
        post = await PostRepo(session).update(post_id, media=media)
    assert post is not None
    draft = {"texts": post.texts, "media": post.media, "buttons": post.buttons,
             "targets": post.targets, "fallbacks": post.fallbacks}
    before = len(world.outgoing(world.author))
    with locale(create_i18n("en"), "en"):
        await send_previews(bot, world.author, draft)
    shown = world.outgoing(world.author)[before:]
    previews = shown[1::2]  # each preview follows its "Preview for the … audience:" line
    assert [m["text"] for m in shown[0::2]] == [
        f"Preview for the {name} audience:" for name in ("Kazakh", "Russian", "English")]

    await rig.publisher.enqueue(post_id)
    await rig.publisher.wait_idle()
    by_lang = {lang: world.outgoing(uid)[-1] for uid, lang in world.citizens.items()}
    for preview, lang in zip(previews, ("kk", "ru", "en"), strict=True):
        delivered = by_lang[lang]
        assert {k: preview.get(k) for k in PREVIEWED} == {k: delivered.get(k) for k in PREVIEWED}
        assert delivered["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://mfa.gov.kz"
        assert (delivered.get(kind) is not None) if kind else "text" in delivered
    assert by_lang["ru"]["html"] == by_lang["kk"]["html"] == "<b>Жаңалық</b> kk"
    assert by_lang["ru"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Толығырақ"
    assert by_lang["en"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Read more"
    assert "text_link" in {e["type"] for e in by_lang["en"].get("entities")
                           or by_lang["en"].get("caption_entities")}
