"""Inline mode: ``@bot germany`` → country cards, ``@bot паспорт жоғалды`` → answers,
in the language of the query when it can be told, else the person's Telegram language."""

from __future__ import annotations

import hashlib

from aiogram import Router
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultUnion,
    InputTextMessageContent,
    LinkPreviewOptions,
)
from aiogram.utils.i18n import I18n

from bot.answers.cards import country_card, topic_card
from bot.answers.language import detect_language
from bot.answers.store import ContentStore
from bot.config import Settings
from bot.shared import tghtml
from bot.shared.i18n import language_from_telegram, locale
from bot.shared.render import Screenful, flag
from bot.travel.alert_board import Board

MAX_RESULTS = 8
CACHE_SECONDS = 60
QUERY_CHARS = 200


def query_language(text: str, telegram_code: str | None, default: str) -> str:
    """The query's own language when it has letters, else the person's Telegram language."""
    if any(ch.isalpha() for ch in text):
        return detect_language(text)
    return language_from_telegram(telegram_code, default)


def _result_id(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:32]


def _article(result_id: str, title: str, description: str, screen: Screenful
             ) -> InlineQueryResultArticle:
    links = [[InlineKeyboardButton(text=b.text, url=b.url) for b in row if b.url]
             for row in screen.buttons]
    links = [row for row in links if row]
    return InlineQueryResultArticle(
        id=result_id, title=title[:100], description=description[:200],
        input_message_content=InputTextMessageContent(
            message_text=tghtml.split(screen.html)[0],
            link_preview_options=LinkPreviewOptions(is_disabled=True)),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=links) if links else None,
    )


def results(store: ContentStore, text: str, lang: str, settings: Settings, board: Board
            ) -> list[InlineQueryResultUnion]:
    """Countries named in the query first, then the answer to it as a question."""
    out: list[InlineQueryResultUnion] = []
    analysis = store.index.analyze(text, lang=lang)
    codes = store.index.find_countries(text, limit=MAX_RESULTS)
    if analysis.country and analysis.country not in codes:
        codes.insert(0, analysis.country)
    # An emergency's topic comes first, then the topic the question matched.
    for slug in dict.fromkeys(s for s in (analysis.urgent, analysis.topic) if s):
        if slug not in store.topics:
            continue
        topic = store.topics[slug]
        iso = analysis.country if analysis.country in store.countries else None
        screen = topic_card(store, topic.slug, lang, settings.tz, iso)
        out.append(_article(_result_id("t", topic.slug, iso or "", lang),
                            topic.title.get(lang), tghtml.parse(topic.body.get(lang)).text,
                            screen))
    for iso in codes[:MAX_RESULTS - len(out)]:
        if iso in store.countries:
            name = store.country_name(iso, lang)
            screen = country_card(store, iso, lang, settings.tz, board=board)
            out.append(_article(_result_id("c", iso, lang), f"{flag(iso)} {name}",
                                tghtml.parse(screen.html).text[:200], screen))
    return out


async def inline_query(query: InlineQuery, store: ContentStore, settings: Settings,
                       i18n: I18n, alert_board: Board) -> None:
    text = " ".join(query.query.split())[:QUERY_CHARS]
    if not text:
        await query.answer([], cache_time=CACHE_SECONDS, is_personal=True)
        return
    lang = query_language(text, query.from_user.language_code, settings.default_language)
    with locale(i18n, lang):
        found = results(store, text, lang, settings, alert_board)
    await query.answer(found, cache_time=CACHE_SECONDS, is_personal=True)


def create_router() -> Router:
    router = Router(name=__name__)
    router.inline_query.register(inline_query)
    return router
