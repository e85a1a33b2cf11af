"""From a question to a reply: the one code path of the chat handler and ``bot.py ask``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.callbacks import CountryCard, Nav, Screen, TopicCard
from bot.services import screens, tghtml
from bot.services.alert_board import BOARD
from bot.services.render import Button, Screenful, country_card, flag, topic_card
from bot.services.search import Analysis
from bot.services.store import ContentStore
from bot.translation import gettext as _
from bot.translation import use_language

ANALYSED_CHARS = 1000  # a question longer than this is judged by its beginning
SEARCH_WORDS = 3  # up to this many words may be a partial country name


class Kind(StrEnum):
    ANSWER = "answer"
    UNSURE = "unsure"
    COUNTRY = "country"
    COUNTRY_CHOICE = "country_choice"
    SMALLTALK = "smalltalk"
    UNKNOWN = "unknown"
    EMPTY = "empty"


@dataclass
class Reply:
    kind: Kind
    analysis: Analysis
    screen: Screenful

    @property
    def lang(self) -> str:
        return self.analysis.lang

    @property
    def chunks(self) -> list[str]:
        return tghtml.split(self.screen.html)

    @property
    def unanswered(self) -> bool:
        return self.kind == Kind.UNKNOWN

    def to_json(self) -> dict[str, Any]:
        a = self.analysis
        return {
            "lang": a.lang,
            "topic": a.topic,
            "country": a.country,
            "confidence": round(a.confidence, 3),
            "answer": tghtml.parse(self.screen.html, spell_links=True).text,
            "alternatives": list(a.alternatives),
        }


class AnswerService:
    CACHE_SIZE = 4096

    def __init__(self, store: ContentStore, tz: ZoneInfo) -> None:
        self.store = store
        self.tz = tz
        self._cards: dict[tuple[str, ...], Screenful] = {}

    def _cached(self, key: tuple[str, ...], build: Callable[[], Screenful]) -> Screenful:
        """Cards depend only on the (immutable) store and the language: render each once."""
        screen = self._cards.get(key)
        if screen is None:
            if len(self._cards) >= self.CACHE_SIZE:
                self._cards.clear()
            screen = self._cards[key] = build()
        return screen

    def answer(self, text: str, lang: str | None = None, fallback: str | None = None) -> Reply:
        """Answer ``text``; ``lang`` forces a language, ``fallback`` is used for text
        without a single letter (emoji, digits) where no language can be told."""
        question = " ".join(text.split())[:ANALYSED_CHARS]
        if lang is None and fallback and not any(ch.isalpha() for ch in question):
            lang = fallback
        analysis = self.store.analyze(question, lang=lang)  # taught questions as taught
        with use_language(analysis.lang):
            reply = self._reply(question, analysis)
        if reply.kind == Kind.UNKNOWN and fallback and fallback != analysis.lang and lang is None:
            # Nothing was understood, so the detected language is a guess too: use the
            # language the person reads the bot in.
            with use_language(fallback):
                reply.screen = self._cached(("?", fallback), self._unknown)
        return reply

    def _reply(self, question: str, a: Analysis) -> Reply:
        lang = a.lang
        if not any(ch.isalpha() for ch in question):
            return Reply(Kind.EMPTY, a, Screenful(
                _("Please type your question in words, for example: "
                  "<i>“How do I renew my passport?”</i>"),
                [[Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack())]],
            ))
        if a.smalltalk and not a.topic and not a.country:
            kind = a.smalltalk
            return Reply(Kind.SMALLTALK, a, self._cached(
                ("s", kind, lang), lambda: self._smalltalk(kind)))
        if a.topic and a.topic in self.store.topics and not a.unsure:
            topic, iso = a.topic, a.country
            return Reply(Kind.ANSWER, a, self._cached(
                ("t", topic, iso or "", lang),
                lambda: topic_card(self.store, topic, lang, self.tz, iso)))
        if a.topic and a.unsure:
            return Reply(Kind.UNSURE, a, self._cached(
                ("u", a.topic, *a.alternatives, a.country or "", lang), lambda: self._unsure(a)))
        if a.country and a.country in self.store.countries:
            iso = a.country
            # The card shows the country's active alert on top: it is part of the key, so a
            # new or expired alert shows at once.
            return Reply(Kind.COUNTRY, a, self._cached(
                ("c", iso, lang, BOARD.banner(iso, lang)),
                lambda: country_card(self.store, iso, lang, self.tz)))
        if len(question.split()) <= SEARCH_WORDS:
            codes = self.store.index.find_countries(question, limit=6)
            if len(codes) == 1:
                return Reply(Kind.COUNTRY, a, country_card(self.store, codes[0], lang, self.tz))
            if codes:
                return Reply(Kind.COUNTRY_CHOICE, a,
                             screens.country_choices(self.store, codes, lang))
        return Reply(Kind.UNKNOWN, a, self._cached(("?", lang), self._unknown))

    def _smalltalk(self, kind: str) -> Screenful:
        text = {
            "greeting": _("Hello! I am the embassy's assistant. Ask me about passports, visas, "
                          "consular registration or any country, or open the menu."),
            "thanks": _("You're welcome! Ask me anything else whenever you need."),
            "bye": _("Goodbye, and safe travels!"),
            "identity": _("I am the digital assistant of Kazakhstan's Ministry of Foreign "
                          "Affairs: I answer consular questions and know the country cards. "
                          "For your own case I can point you to a consular officer."),
            "ack": _("Good. Anything else I can help with?"),
        }.get(kind) or _("Ask me anything about consular services.")
        return Screenful(text, [[Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack())]])

    def _unsure(self, a: Analysis) -> Screenful:
        slugs = [s for s in (a.topic, *a.alternatives) if s in self.store.topics][:3]
        rows = [[Button(self.store.topics[s].title.get(a.lang),
                        TopicCard(slug=s, iso=a.country or "").pack())] for s in slugs]
        if a.country and a.country in self.store.countries:
            rows.append([Button(
                f"{flag(a.country)} {self.store.country_name(a.country, a.lang)}",
                CountryCard(iso=a.country).pack())])
        rows.append([Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack())])
        return Screenful(_("I am not sure I understood. Did you mean one of these?"), rows)

    def _unknown(self) -> Screenful:
        return Screenful(
            _("Sorry, I don't have an answer to that yet. I have passed your question on to "
              "the editors. Try the menu, or reach a consular officer."),
            [[Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack()),
              Button(_("📞 Reach a person"), Nav(screen=Screen.CONTACT).pack())]],
        )
