"""The one renderer of a post: what a recipient of a language gets — the text (after the
language's fallback), its parse mode, the media and the link buttons — and the one request
that sends it. The editor's preview and the delivery engine both send what :func:`render`
returns with :meth:`Rendered.send`, so the preview is byte for byte what recipients get.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from storage.publishing.posts import PostDTO

SKIP = "skip"
PARSE_MODE = "HTML"


@dataclass(frozen=True)
class LinkButton:
    label: str
    url: str


@dataclass(frozen=True)
class Rendered:
    """One language of a post as a recipient gets it."""

    lang: str  # the language of the text (the fallback's, for an audience without its own)
    html: str
    media: dict[str, Any] | None
    buttons: tuple[LinkButton, ...] = ()
    parse_mode: str = PARSE_MODE

    def markup(self) -> InlineKeyboardMarkup | None:
        if not self.buttons:
            return None
        return InlineKeyboardMarkup(inline_keyboard=[
            [InlineKeyboardButton(text=b.label, url=b.url)] for b in self.buttons
        ])

    def send(self, bot: Bot, chat_id: int, **extra: Any) -> Awaitable[Message]:
        """The one request that sends this rendering (``extra``: transport options only)."""
        args: dict[str, Any] = {"parse_mode": self.parse_mode, "reply_markup": self.markup(),
                                **extra}
        media = self.media or {}
        if media.get("type") == "photo":
            return bot.send_photo(chat_id, media["file_id"], caption=self.html, **args)
        if media.get("type") == "document":
            return bot.send_document(chat_id, media["file_id"], caption=self.html, **args)
        return bot.send_message(chat_id, self.html, **args)

    def edit(self, bot: Bot, chat_id: int, message_id: int) -> Awaitable[Message | bool]:
        """Bring a message sent from an earlier version in line with this one."""
        if self.media:
            return bot.edit_message_caption(chat_id=chat_id, message_id=message_id,
                                            caption=self.html, parse_mode=self.parse_mode,
                                            reply_markup=self.markup())
        return bot.edit_message_text(chat_id=chat_id, message_id=message_id, text=self.html,
                                     parse_mode=self.parse_mode, reply_markup=self.markup())


def text_language(texts: Mapping[str, str], fallbacks: Mapping[str, Any], lang: str
                  ) -> str | None:
    """Whose text an audience of ``lang`` gets: its own, its fallback's, or None (skipped)."""
    if texts.get(lang):
        return lang
    other = fallbacks.get(lang, SKIP)
    if other and other != SKIP and texts.get(other):
        return str(other)
    return None


def render(texts: Mapping[str, str], fallbacks: Mapping[str, Any],
           media: dict[str, Any] | None, buttons: Mapping[str, Any] | None,
           lang: str) -> Rendered | None:
    """What an audience of ``lang`` receives, or None to skip it."""
    source = text_language(texts, fallbacks, lang)
    if source is None:
        return None
    links = []
    for row in (buttons or {}).get("rows") or []:
        labels = row.get("labels") or {}
        label = labels.get(source) or next((v for v in labels.values() if v), None)
        if row.get("url") and label:
            links.append(LinkButton(label, row["url"]))
    return Rendered(source, texts[source], media or None, tuple(links))


def of_post(post: PostDTO, lang: str) -> Rendered | None:
    return render(post.texts, post.fallbacks, post.media, post.buttons, lang)


def of_draft(draft: Mapping[str, Any], lang: str) -> Rendered | None:
    """The same for a post still being written (the dialogue's dict of fields)."""
    return render(draft.get("texts") or {}, draft.get("fallbacks") or {}, draft.get("media"),
                  draft.get("buttons"), lang)
