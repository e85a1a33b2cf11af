"""The server's method table is assembled from its method areas (localapi/methods): every
method it served before the split is still dispatched, case-insensitively, and the control
surface's settings reach the one shared world."""

from __future__ import annotations

import pytest

from localapi import LocalBotAPI

pytestmark = pytest.mark.asyncio

SERVED = [
    # updates
    "getUpdates", "setWebhook", "deleteWebhook", "getWebhookInfo", "close", "logOut",
    # messages
    "sendMessage", "sendPhoto", "sendDocument", "sendSticker", "sendVoice", "sendAudio",
    "sendVideo", "sendAnimation", "sendLocation", "sendContact", "sendChatAction",
    "editMessageText", "editMessageCaption", "editMessageReplyMarkup", "deleteMessage",
    "deleteMessages", "copyMessage", "forwardMessage", "getFile",
    # chats
    "getChat", "getChatMember", "getChatAdministrators", "getChatMemberCount",
    "createForumTopic", "editForumTopic", "closeForumTopic", "reopenForumTopic",
    "deleteForumTopic", "leaveChat",
    # interaction
    "getMe", "answerCallbackQuery", "answerInlineQuery", "setMyCommands", "getMyCommands",
    "deleteMyCommands", "setChatMenuButton", "getChatMenuButton",
]
NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found: method not found"}


async def test_every_method_of_every_area_is_dispatched() -> None:
    server = LocalBotAPI()
    token = server.register_bot()
    for name in SERVED:
        status, body = await server.call(token, name.lower(), {})
        assert (status, body) != (404, NOT_FOUND), name
        assert server.calls[-1].method == name  # recorded under the Bot API's spelling
    assert await server.call(token, "sendPoll", {}) == (404, NOT_FOUND)
    assert set(server.stats.calls_per_method) == {*SERVED, "sendPoll"}


async def test_flood_limits_switched_later_reach_the_gate() -> None:
    """``flood_limits`` may be switched on a running server (test_publishing does)."""
    server = LocalBotAPI()
    token = server.register_bot()
    user = server.add_user("Aigerim", started=True)
    send = {"chat_id": user.id, "text": "hi"}
    server.flood_limits = True
    statuses = [(await server.call(token, "sendMessage", send))[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]  # a private chat's burst is 3
    server.flood_limits = False
    assert (await server.call(token, "sendMessage", send))[0] == 200
    assert server.stats.too_many_requests == 1
