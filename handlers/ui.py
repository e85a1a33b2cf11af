"""Showing screens in Telegram: send new, or edit the message a button was pressed on."""

from __future__ import annotations

import logging
from functools import lru_cache

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)

from bot.shared import tghtml
from bot.shared.render import Button, Screenful

log = logging.getLogger(__name__)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def keyboard(screen: Screenful) -> InlineKeyboardMarkup | None:
    if not screen.buttons:
        return None
    markup = screen.rendered.get("keyboard")
    if markup is None:
        markup = InlineKeyboardMarkup(inline_keyboard=[
            [_button(b) for b in row] for row in screen.buttons
        ])
        screen.rendered["keyboard"] = markup
    return markup


@lru_cache(maxsize=8192)
def _button(button: Button) -> InlineKeyboardButton:
    """Buttons repeat across answers (menus, related topics): build each one once."""
    return InlineKeyboardButton(text=button.text, callback_data=button.data, url=button.url)


async def send(message: Message, screen: Screenful) -> Message:
    """Answer with the screen, split at Telegram's limit; buttons go under the last part."""
    chunks = tghtml.split(screen.html)
    sent = message
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        sent = await message.answer(
            chunk, reply_markup=keyboard(screen) if last else None, link_preview_options=NO_PREVIEW
        )
    return sent


async def show(query: CallbackQuery, screen: Screenful) -> None:
    """Navigation edits the same message; parts beyond the first follow as new messages."""
    message = query.message
    if message is None or isinstance(message, InaccessibleMessage):
        if query.from_user and query.bot:
            chunks = tghtml.split(screen.html)
            for i, chunk in enumerate(chunks):
                await query.bot.send_message(
                    query.from_user.id, chunk, link_preview_options=NO_PREVIEW,
                    reply_markup=keyboard(screen) if i == len(chunks) - 1 else None,
                )
        return
    chunks = tghtml.split(screen.html)
    single = len(chunks) == 1
    try:
        await message.edit_text(
            chunks[0], reply_markup=keyboard(screen) if single else None,
            link_preview_options=NO_PREVIEW,
        )
    except TelegramBadRequest as exc:
        if "not modified" in exc.message:
            return
        log.info("could not edit message %s (%s); sending anew", message.message_id, exc.message)
        await send(message, screen)
        return
    if not single:
        await send(message, Screenful("\n\n".join(chunks[1:]), screen.buttons))
