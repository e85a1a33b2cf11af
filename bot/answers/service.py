"""From a question to a reply: the one code path of the chat handler and ``bot.py ask``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.answers.analysis import Analysis
from bot.answers.callbacks import AskBack, TopicCard
from bot.answers.cards import country_card, topic_card
from bot.answers.store import ContentStore
from bot.navigation import screens
from bot.navigation.callbacks import Nav, Screen
from bot.shared import tghtml
from bot.shared.render import Button, Screenful
from bot.shared.textnorm import READ_CHARS
from bot.shared.translation import gettext as _
from bot.shared.translation import use_language
from bot.travel.alert_board import Board

SEARCH_WORDS = 3  # up to this many words may be a partial country name
ASK_BACK_TOPICS = 2  # topics offered when the bot asks back which one is meant


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

    def __init__(self, store: ContentStore, tz: ZoneInfo, board: Board | None = None) -> None:
        """``board``: the dispatcher's active alerts; without one (``bot.py ask``) none."""
        self.store = store
        self.tz = tz
        self.board = board or Board()
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
        """Answer ``text``; ``lang`` forces a language; ``fallback``, the language the person
        reads the bot in, is used for text without a single letter (emoji, digits) where no
        language can be told, and settles a short question that could be Kazakh or Russian."""
        question = " ".join(text.split())[:READ_CHARS]
        if lang is None and fallback and not any(ch.isalpha() for ch in question):
            lang = fallback
        # taught questions as taught
        analysis = self.store.analyze(question, lang=lang, reader=fallback)
        # A city or region names the mission that serves it, and its country when none was.
        place = self.store.places.find(question, analysis.country)
        if place is not None and analysis.country is None:
            analysis = replace(analysis, country=place.iso)
        with use_language(analysis.lang):
            reply = self._reply(question, analysis, place.mission_id if place else None)
        if reply.kind == Kind.UNKNOWN and fallback and fallback != analysis.lang and lang is None:
            # Nothing was understood, so the detected language is a guess too: use the
            # language the person reads the bot in.
            with use_language(fallback):
                reply.screen = self._cached(("?", fallback), self._unknown)
        return reply

    def reply_to(self, question: str, analysis: Analysis) -> Reply:
        """The reply to a question already analysed (in the analysis' language)."""
        with use_language(analysis.lang):
            return self._reply(" ".join(question.split())[:READ_CHARS], analysis)

    def _reply(self, question: str, a: Analysis, mission: str | None = None) -> Reply:
        lang = a.lang
        if not any(ch.isalpha() for ch in question):
            return Reply(Kind.EMPTY, a, Screenful(
                _("Please type your question in words, for example: "
                  "<i>“How do I renew my passport?”</i>"),
                [[Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack())]],
            ))
        if a.urgent and a.urgent in self.store.topics:
            # Emergencies first, whatever else the question matched: that topic follows as
            # a button under the urgent card.
            other = a.topic if a.topic in self.store.topics and a.topic != a.urgent else None
            urgent, iso = a.urgent, a.country
            led = replace(
                a, topic=urgent,
                alternatives=tuple(dict.fromkeys(s for s in (a.topic, *a.alternatives)
                                                 if s and s != urgent)),
            )
            return Reply(Kind.ANSWER, led, self._cached(
                ("!", urgent, other or "", iso or "", lang, mission or ""),
                lambda: self._urgent(urgent, other, iso, lang, mission)))
        if a.smalltalk and not a.topic and not a.country:
            kind = a.smalltalk
            return Reply(Kind.SMALLTALK, a, self._cached(
                ("s", kind, lang), lambda: self._smalltalk(kind)))
        if a.topic and a.topic in self.store.topics and not a.unsure:
            topic, iso = a.topic, a.country
            return Reply(Kind.ANSWER, a, self._cached(
                ("t", topic, iso or "", lang, mission or ""),
                lambda: topic_card(self.store, topic, lang, self.tz, iso, mission=mission)))
        if a.topic and a.unsure:
            return Reply(Kind.UNSURE, a, self._cached(
                ("u", a.topic, *a.alternatives, a.country or "", lang),
                lambda: self._unsure(a)))
        if a.country and a.country in self.store.countries:
            iso = a.country
            # The card shows the country's active alert on top: it is part of the key, so a
            # new or expired alert shows at once.
            return Reply(Kind.COUNTRY, a, self._cached(
                ("c", iso, lang, self.board.banner(iso, lang), mission or ""),
                lambda: country_card(self.store, iso, lang, self.tz, mission,
                                     board=self.board)))
        if len(question.split()) <= SEARCH_WORDS:
            codes = self.store.index.find_countries(question, limit=6)
            if len(codes) == 1:
                return Reply(Kind.COUNTRY, a, country_card(self.store, codes[0], lang, self.tz,
                                                              board=self.board))
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

    def _urgent(self, urgent: str, other: str | None, iso: str | None, lang: str,
                mission: str | None = None) -> Screenful:
        card = topic_card(self.store, urgent, lang, self.tz, iso, mission=mission)
        if other is None:
            return card
        button = Button(self.store.topics[other].title.get(lang),
                        TopicCard(slug=other, iso=iso or "").pack())
        rows = [[b for b in row if b.data != button.data] for row in card.buttons]
        return Screenful(card.html, [[button], *(row for row in rows if row)])

    def _unsure(self, a: Analysis) -> Screenful:
        """Ask back instead of guessing: one short question, one button per close topic,
        labelled with the topic's short ``choice`` phrase."""
        slugs = [s for s in dict.fromkeys((a.topic, *a.alternatives))
                 if s in self.store.topics][:ASK_BACK_TOPICS]
        iso = a.country if a.country in self.store.countries else ""
        rows = [[Button(self._choice_label(s, a.lang),
                        AskBack(slug=s, iso=iso or "", lang=a.lang).pack())] for s in slugs]
        rows.append([Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack())])
        question = (_("Which is closer to your case?") if len(slugs) > 1
                    else _("Is this what you are asking about?"))
        return Screenful(question, rows)

    def _choice_label(self, slug: str, lang: str) -> str:
        topic = self.store.topics[slug]
        return (topic.choice or topic.title).get(lang)

    def chosen(self, slug: str, iso: str, lang: str) -> Screenful | None:
        """The card of the topic a person picked when asked back, for the country their
        question named; None for a topic or country the store does not have (forged or
        stale data)."""
        code = iso.upper()
        if slug not in self.store.topics or (code and code not in self.store.countries):
            return None
        with use_language(lang):
            return self._cached(("t", slug, code, lang),
                                lambda: topic_card(self.store, slug, lang, self.tz, code or None))

    def _unknown(self) -> Screenful:
        return Screenful(
            _("Sorry, I don't have an answer to that yet. I have passed your question on to "
              "the editors. Try the menu, or reach a consular officer."),
            [[Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack()),
              Button(_("📞 Reach a person"), Nav(screen=Screen.CONTACT).pack())]],
        )
