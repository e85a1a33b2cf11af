"""The server driven by aiogram's real HTTP client."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Dispatcher, F
from aiogram.exceptions import TelegramNotFound, TelegramUnauthorizedError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonCommands,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from . import make_bot, serve

pytestmark = pytest.mark.asyncio


async def test_get_me() -> None:
    async with serve() as (server, bot):
        me = await bot.get_me()
        assert me.username == "embassy_bot"
        assert me.first_name == "Embassy"
        assert me.is_bot is True
        assert me.id == int(bot.token.split(":")[0])
        assert server.calls[-1].method == "getMe"
        assert server.calls[-1].ok


async def test_inline_keyboard_press_arrives_as_callback_query() -> None:
    async with serve() as (server, bot):
        user = server.add_user("Aigerim", "kk")
        start = await server.send_message(user, "/start")
        assert start["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="Consular services", callback_data="menu:consular")],
                [InlineKeyboardButton(text="Site", url="https://mfa.gov.kz")],
            ]
        )
        sent = await bot.send_message(user.id, "<b>Choose</b> a section", reply_markup=markup)
        assert sent.text == "Choose a section"
        view = server.last_bot_message(user)
        assert view is not None
        assert view["html"] == "<b>Choose</b> a section"
        assert server.buttons(view) == [
            [("Consular services", "menu:consular")],
            [("Site", "https://mfa.gov.kz")],
        ]

        first = await bot.get_updates()
        assert first[0].message is not None
        assert first[0].message.text == "/start"
        await server.press_button(user, view, "menu:consular")
        updates = await bot.get_updates(offset=first[-1].update_id + 1)
        assert len(updates) == 1
        query = updates[0].callback_query
        assert isinstance(query, CallbackQuery)
        assert query.data == "menu:consular"
        assert query.from_user.id == user.id
        assert query.message is not None
        assert query.message.message_id == sent.message_id
        assert await bot.answer_callback_query(query.id, text="Opening") is True
        assert server.callback_answers()[query.id]["text"] == "Opening"

        with pytest.raises(LookupError):
            await server.press_button(user, view, "menu:nothing")


async def test_long_polling_returns_when_a_message_arrives() -> None:
    async with serve() as (server, bot):
        user = server.add_user("Daniyar")
        loop = asyncio.get_running_loop()
        started = loop.time()
        polling = asyncio.create_task(bot.get_updates(timeout=10))
        await asyncio.sleep(0.3)
        assert not polling.done()
        await server.send_message(user, "hello")
        updates = await asyncio.wait_for(polling, 3)
        assert [u.message.text for u in updates if u.message] == ["hello"]
        assert loop.time() - started < 3
        confirmed = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
        assert confirmed == []
        assert server.pending_updates() == []


async def test_dispatcher_echo_answers_a_user() -> None:
    async with serve() as (server, bot):
        dispatcher = Dispatcher()

        @dispatcher.message(F.text)
        async def echo(message: Message) -> None:
            await message.answer(f"<i>You said:</i> {message.text}")

        user = server.add_user("Aruzhan", "ru")
        polling = asyncio.create_task(
            dispatcher.start_polling(
                bot, polling_timeout=1, handle_signals=False, close_bot_session=False
            )
        )
        try:
            await server.send_message(user, "Салем")
            replies = await server.wait_for_messages(user, count=1, timeout=5)
            assert replies[0]["text"] == "You said: Салем"
            assert replies[0]["html"] == "<i>You said:</i> Салем"
            await server.send_message(user, "again")
            replies = await server.wait_for_messages(user, timeout=5)
            assert replies[0]["text"] == "You said: again"
        finally:
            await dispatcher.stop_polling()
            await asyncio.wait_for(polling, 5)


async def test_edits_deletes_and_wait_sees_edits() -> None:
    async with serve() as (server, bot):
        user = server.add_user("Aliya", started=True)
        sent = await bot.send_message(user.id, "one")
        server.mark(user)
        edited = await bot.edit_message_text(
            chat_id=user.id, message_id=sent.message_id, text="<b>two</b>"
        )
        assert isinstance(edited, Message)
        assert edited.edit_date is not None
        [view] = await server.wait_for_messages(user)
        assert view["edited"] is True
        assert view["html"] == "<b>two</b>"
        assert await bot.delete_message(user.id, sent.message_id) is True
        assert server.messages(user) == []


async def test_reply_keyboard_media_copy_forward_and_actions() -> None:
    async with serve() as (server, bot):
        user = server.add_user("Bolat", started=True)
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text="Countries"), KeyboardButton(text="Help")]]
        )
        await bot.send_message(user.id, "Menu", reply_markup=keyboard)
        assert server.reply_keyboard(user) == [["Countries", "Help"]]
        await bot.send_message(user.id, "Bye", reply_markup=ReplyKeyboardRemove())
        assert server.reply_keyboard(user) is None

        photo = await bot.send_photo(
            user.id, BufferedInputFile(b"\x89PNG..", "p.png"), caption="<b>Map</b>"
        )
        assert photo.caption == "Map"
        assert photo.photo
        assert photo.photo[-1].width == 800
        document = await bot.send_document(user.id, BufferedInputFile(b"hello", "form.pdf"))
        assert document.document is not None
        assert document.document.file_name == "form.pdf"
        file = await bot.get_file(document.document.file_id)
        data = await bot.download_file(file.file_path)  # type: ignore[arg-type]
        assert data is not None
        assert data.read() == b"hello"
        location = await bot.send_location(user.id, latitude=51.13, longitude=71.43)
        assert location.location is not None
        assert location.location.latitude == 51.13

        incoming = await server.send_message(user, "forward me")
        copied = await bot.copy_message(user.id, user.id, incoming["message_id"])
        assert server.messages(user)[-1]["message_id"] == copied.message_id
        assert server.messages(user)[-1]["text"] == "forward me"
        forwarded = await bot.forward_message(user.id, user.id, incoming["message_id"])
        assert forwarded.forward_origin is not None
        assert forwarded.text == "forward me"

        assert await bot.send_chat_action(user.id, "typing") is True
        assert server.chat_actions() == [(user.id, "typing")]


async def test_commands_per_language_and_scope() -> None:
    async with serve() as (server, bot):
        group = server.add_group("Diaspora", supergroup=True)
        await bot.set_my_commands([BotCommand(command="start", description="Start")])
        await bot.set_my_commands(
            [
                BotCommand(command="start", description="Бастау"),
                BotCommand(command="help", description="Көмек"),
            ],
            language_code="kk",
        )
        await bot.set_my_commands(
            [BotCommand(command="menu", description="Меню")],
            scope=BotCommandScopeAllPrivateChats(),
            language_code="ru",
        )
        await bot.set_my_commands(
            [BotCommand(command="admin", description="Admin")],
            scope=BotCommandScopeChat(chat_id=group.id),
        )
        assert [c.description for c in await bot.get_my_commands(language_code="kk")] == [
            "Бастау",
            "Көмек",
        ]
        assert [c.command for c in await bot.get_my_commands()] == ["start"]
        assert server.commands(language_code="kk") == [
            {"command": "start", "description": "Бастау"},
            {"command": "help", "description": "Көмек"},
        ]
        assert server.commands("all_private_chats", "ru") == [
            {"command": "menu", "description": "Меню"}
        ]
        assert server.commands({"type": "chat", "chat_id": group.id}) == [
            {"command": "admin", "description": "Admin"}
        ]
        assert await bot.get_my_commands(language_code="en") == []
        await bot.delete_my_commands(language_code="kk")
        assert server.commands(language_code="kk") == []
        assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands()) is True
        assert server.menu_button() == {"type": "commands"}


async def test_groups_forums_and_membership_updates() -> None:
    async with serve() as (server, bot):
        admin = server.add_user("Admin")
        member = server.add_user("Member")
        forum = server.add_group(
            "Forum", members=[member], admins=[admin], forum=True, bot_admin=True
        )
        topic = await bot.create_forum_topic(forum.id, "Visas")
        sent = await bot.send_message(
            forum.id, "in topic", message_thread_id=topic.message_thread_id
        )
        assert sent.message_thread_id == topic.message_thread_id
        assert sent.is_topic_message
        assert await bot.close_forum_topic(forum.id, topic.message_thread_id) is True
        assert (
            await bot.edit_forum_topic(forum.id, topic.message_thread_id, name="Visas 2026")
            is True
        )
        assert forum.topics[topic.message_thread_id].name == "Visas 2026"
        assert await bot.reopen_forum_topic(forum.id, topic.message_thread_id) is True

        admins = await bot.get_chat_administrators(forum.id)
        assert [a.status for a in admins] == ["creator", "administrator"]
        assert (await bot.get_chat_member(forum.id, member.id)).status == "member"
        chat = await bot.get_chat(forum.id)
        assert chat.title == "Forum"
        assert chat.is_forum

        group = server.add_group("Plain", members=[member], admins=[admin], bot_member=False)
        server.add_bot_to_group(group, by=admin)
        server.remove_bot_from_group(group, by=admin)
        updates = await bot.get_updates()
        members = [u.my_chat_member for u in updates if u.my_chat_member]
        assert [(m.old_chat_member.status, m.new_chat_member.status) for m in members] == [
            ("left", "member"),
            ("member", "left"),
        ]

        other = server.add_group("Privacy", members=[member])
        await server.send_message(member, "just chatting", chat=other)
        await server.send_message(member, "/help@embassy_bot", chat=other)
        texts = [
            u.message.text
            for u in await bot.get_updates(offset=updates[-1].update_id + 1)
            if u.message
        ]
        assert texts == ["/help@embassy_bot"]


async def test_inline_query_is_answered() -> None:
    async with serve() as (server, bot):
        user = server.add_user("Inline")
        query = await server.inline_query(user, "visa")
        [update] = await bot.get_updates()
        assert update.inline_query is not None
        assert update.inline_query.query == "visa"
        from aiogram.types import InlineQueryResultArticle, InputTextMessageContent

        result = InlineQueryResultArticle(
            id="1",
            title="Visa",
            input_message_content=InputTextMessageContent(message_text="Visa info"),
        )
        assert await bot.answer_inline_query(query["id"], [result]) is True
        assert server.inline_answers()[query["id"]]["results"][0]["title"] == "Visa"


async def test_unknown_method_and_token() -> None:
    async with serve() as (server, bot):
        import aiohttp

        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.base_url}/bot{bot.token}/fooBar") as response:
                assert response.status == 404
                assert await response.json() == {
                    "ok": False,
                    "error_code": 404,
                    "description": "Not Found: method not found",
                }
            async with http.post(
                f"{server.base_url}/bot{bot.token}/sendMessage", data={"chat_id": "1"}
            ) as response:
                assert (await response.json())["description"] == "Bad Request: chat not found"
        stranger = make_bot(server, "123456:not-a-registered-token")
        try:
            with pytest.raises(TelegramUnauthorizedError) as caught:
                await stranger.get_me()
            assert caught.value.message == "Unauthorized"
        finally:
            await stranger.session.close()
        assert TelegramNotFound is not None


async def test_forum_administrators_promotion_and_deleting_topics_and_messages() -> None:
    from aiogram.exceptions import TelegramBadRequest

    async with serve() as (server, bot):
        owner = server.add_user("Owner")
        member = server.add_user("Member")
        forum = server.add_group("Desk", members=[member], admins=[owner], forum=True,
                                 bot_admin=True)
        admins = await bot.get_chat_administrators(forum.id)
        assert [(a.user.id, a.status) for a in admins] == [(owner.id, "creator"),
                                                           (bot.id, "administrator")]
        assert admins[1].can_manage_topics and admins[1].can_delete_messages
        server.set_admin(forum, member)
        assert (await bot.get_chat_member(forum.id, member.id)).status == "administrator"
        server.set_admin(forum, member, admin=False)
        assert (await bot.get_chat_member(forum.id, member.id)).status == "member"
        group = server.add_group("Plain", admins=[owner], bot_admin=True)
        [_, me] = await bot.get_chat_administrators(group.id)
        assert me.can_manage_topics is None  # "supergroups only"

        kept = await bot.create_forum_topic(forum.id, "Kept")
        gone = await bot.create_forum_topic(forum.id, "Gone")
        keep = await bot.send_message(forum.id, "stays", message_thread_id=kept.message_thread_id)
        await bot.send_message(forum.id, "ours", message_thread_id=gone.message_thread_id)
        await server.send_message(member, "theirs", forum, thread_id=gone.message_thread_id)
        assert await bot.delete_forum_topic(forum.id, gone.message_thread_id) is True
        assert gone.message_thread_id not in forum.topics
        assert [m.get("text") for m in server.messages(forum)
                if m.get("message_thread_id") == gone.message_thread_id] == []
        with pytest.raises(TelegramBadRequest, match="thread not found"):
            await bot.send_message(forum.id, "late", message_thread_id=gone.message_thread_id)
        with pytest.raises(TelegramBadRequest, match="thread not found"):
            await bot.delete_forum_topic(forum.id, gone.message_thread_id)

        # a topic's creation cannot be deleted; missing ids are skipped; 48 hours at most
        with pytest.raises(TelegramBadRequest, match="can't be deleted"):
            await bot.delete_message(forum.id, kept.message_thread_id)
        one = await bot.send_message(forum.id, "one", message_thread_id=kept.message_thread_id)
        assert await bot.delete_messages(forum.id, [one.message_id, 99_999]) is True
        assert "one" not in [m.get("text") for m in server.messages(forum)]
        server.advance(48 * 3600)
        with pytest.raises(TelegramBadRequest, match="can't be deleted for everyone"):
            await bot.delete_message(forum.id, keep.message_id)
        assert "stays" in [m.get("text") for m in server.messages(forum)]
        assert await bot.delete_forum_topic(forum.id, kept.message_thread_id) is True
        assert "stays" not in [m.get("text") for m in server.messages(forum)]
