"""The question analyzer: which language, which topic, which country, or small talk.

One :class:`QuestionIndex` is built from the content store at start-up. It ties together the
country matcher (:mod:`countries`), the language detector (:mod:`language`), small talk and
out-of-scope words (:mod:`smalltalk`), and the topic index fused with the topic model
(:mod:`index`), and reads a question with all of them into one :class:`Analysis`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.answers import urgency
from bot.answers.content import LANGS, Country, Topic
from bot.answers.countries import (
    CountryMatcher,
    Mention,
    merge_hyphen_suffixes,
    pick_country,
    place_focus,
)
from bot.answers.index import (
    NOTHING_FITS_SCORE,
    OUT_OF_SCOPE_SCORE,
    OUT_OF_SCOPE_WEIGHT,
    UNSURE_CONFIDENCE,
    UNSURE_MARGIN,
    TopicIndex,
    best_topics,
    decide,
)
from bot.answers.language import KNOWN_WORDS, Vocabulary, detect
from bot.answers.smalltalk import (
    CLOSING_SMALLTALK,
    SMALLTALK_FILLER,
    SMALLTALK_WORDS,
    out_of_scope,
    smalltalk_of,
)
from bot.answers.topic_model import TopicModel
from bot.answers.words import STOP_KEYS, is_stop
from bot.shared.textnorm import READ_CHARS, Token, tokenize

LANG_MODEL_SURE = 0.6  # the language model overrides the detector's votes from this probability
SPELLING_WORDS = 3  # up to this many words, a country's spelling may tell the language


@dataclass(frozen=True)
class Analysis:
    lang: str
    topic: str | None
    country: str | None
    confidence: float
    alternatives: tuple[str, ...]
    smalltalk: str | None
    # The topic an emergency leads with (death-abroad or emergency-help), whatever else the
    # question matches; None when nothing urgent is described (bot/answers/urgency.py).
    urgent: str | None = None

    @property
    def unsure(self) -> bool:
        """A topic was picked, but not confidently: offer it with the alternatives."""
        return self.topic is not None and self.confidence < UNSURE_CONFIDENCE


class QuestionIndex:
    """Everything needed to analyze a question, built once from the content store."""

    def __init__(self) -> None:
        self._topics = TopicIndex()
        self._countries = CountryMatcher()
        self._vocab = Vocabulary()
        self._model: TopicModel | None = None
        self._model_docs: tuple[int, ...] = ()  # per model class, its topic (-1: none)
        self.lang_model: TopicModel | None = None  # classes: the languages

    @property
    def model(self) -> TopicModel | None:
        """The topic model fused with the index's scores (None: the index alone)."""
        return self._model

    @model.setter
    def model(self, model: TopicModel | None) -> None:
        self._model_docs = self._topics.docs_of(model.classes) if model else ()
        self._model = model

    def with_model(
        self, model: TopicModel | None, lang_model: TopicModel | None = None
    ) -> QuestionIndex:
        """This index with another topic model (and language model, if given): a new object
        sharing everything else, so a question being answered keeps the models it started
        with."""
        other = copy.copy(self)
        other.model = model
        if lang_model is not None:
            other.lang_model = lang_model
        return other

    @classmethod
    def build(cls, topics: Mapping[str, Topic], countries: Mapping[str, Country]) -> QuestionIndex:
        self = cls()
        self._countries = CountryMatcher.build(countries)
        self._topics, self._vocab = TopicIndex.build(topics, self._countries)
        self._countries.know(
            KNOWN_WORDS | STOP_KEYS | SMALLTALK_FILLER | SMALLTALK_WORDS.keys() | self._vocab.seen
        )
        return self

    # -- questions --
    def analyze(self, text: str, lang: str | None = None, reader: str | None = None) -> Analysis:
        """The reading of a question; ``lang`` forces its language, ``reader`` (the language
        the person reads the bot in) settles a short question that could be either."""
        tokens = merge_hyphen_suffixes(tokenize((text or "")[:READ_CHARS]))
        mentions = self._countries.find(tokens, near=True)
        named = {j for a, b, *_ in mentions for j in range(a, b + 1)}
        if lang not in LANGS:
            exact = [m for m in mentions if not m.near]
            lang = (self._countries.language_of(tokens, exact)
                    or self._spelled_language(tokens, exact, named)
                    or self._language(tokens, reader))
        country = pick_country(tokens, mentions)
        offscope = out_of_scope(tokens)
        content = [t for j, t in enumerate(tokens) if j not in named and j not in offscope]
        ranked, floor, guess = self._topic_ranking(tokens, named, offscope, lang, mentions)
        topic, confidence, alternatives = decide(ranked, floor)
        if guess:
            confidence = min(confidence, UNSURE_CONFIDENCE - 0.01)
        smalltalk, pure = smalltalk_of(content) if not mentions else (None, False)
        closing = smalltalk in CLOSING_SMALLTALK and confidence < UNSURE_CONFIDENCE
        if smalltalk and (pure or topic is None or closing):
            topic, confidence, alternatives = None, 0.0, ()
        else:
            smalltalk = None
        names = tuple(self._topics.slugs[d] for d in alternatives)
        return Analysis(
            lang,
            self._topics.slugs[topic] if topic is not None else None,
            country,
            round(confidence, 3),
            names,
            smalltalk,
            urgency.detect((text or "")[:READ_CHARS], tokens),
        )

    def language_words(self, text: str) -> list[Token]:
        """The words the language model reads, in training as in answering."""
        return merge_hyphen_suffixes(tokenize((text or "")[:READ_CHARS]))

    def model_words(self, text: str) -> list[Token]:
        """The words the topic model reads, in training as in answering: the question's words
        but the country names (a country says nothing about the topic)."""
        tokens = merge_hyphen_suffixes(tokenize((text or "")[:READ_CHARS]))
        named = {j for a, b, *_ in self._countries.find(tokens) for j in range(a, b + 1)}
        return [t for j, t in enumerate(tokens) if j not in named]

    def find_countries(self, text: str, limit: int = 8) -> list[str]:
        return self._countries.complete((text or "")[:200], limit)

    def _spelled_language(
        self, tokens: Sequence[Token], mentions: list[Mention], named: set[int]
    ) -> str | None:
        """A short question naming a country as only one language spells it ("Туркия виза",
        "Turkiya viza"): that language, unless its other words say otherwise."""
        if not mentions or len(tokens) > SPELLING_WORDS:
            return None
        langs = self._countries.spelling_langs(tokens, mentions)
        if len(langs) != 1:
            return None
        [lang] = langs
        rest = [t for j, t in enumerate(tokens) if j not in named]
        return lang if not rest or detect(rest, self._vocab, lang) == lang else None

    def _language(self, tokens: Sequence[Token], reader: str | None) -> str:
        """The language by the detector's votes, unless the language model (trained on the
        examples, which are written in each language as people write it: Russian with Kazakh
        words, Kazakh without the Kazakh letters) is sure of another."""
        voted = detect(tokens, self._vocab, reader)
        model = self.lang_model
        if model is None:
            return voted
        if not tokens:
            return voted
        p = model.probabilities(tokens)  # country names too: «Германияға» is Kazakh
        best = max(p, key=p.__getitem__)
        return best if p[best] >= LANG_MODEL_SURE else voted

    def _topic_ranking(
        self, tokens: Sequence[Token], named: set[int], offscope: set[int], lang: str,
        mentions: list[Mention],
    ) -> tuple[list[tuple[float, int]], float, bool]:
        """The best topics by the index's scores fused with the topic model's probabilities;
        the score below which no topic fits; and whether the pick is a guess to offer, not an
        answer (one topic word that the index finds as fitting for two topics: the model only
        knows which of them the examples say more often)."""
        content = [t for j, t in enumerate(tokens) if j not in named and j not in offscope]
        scores = self._topics.scores(content, lang, place_focus(tokens, mentions), bool(mentions))
        floor = OUT_OF_SCOPE_SCORE if offscope else NOTHING_FITS_SCORE
        model = self._model
        if model is None or offscope:  # a forecast, a rate: the index alone, as before
            return best_topics(scores), floor, False
        words = [t for j, t in enumerate(tokens) if j not in named]
        topical = [t for t in content if not is_stop(t)]
        if not topical:  # "and Mongolia?": no topic words
            return best_topics(scores), floor, False
        by_index = best_topics(scores)
        if (len(topical) == 1 and len(by_index) > 1
                and by_index[1][0] > (1 - UNSURE_MARGIN) * by_index[0][0]):
            return by_index, floor, True  # offered with its alternatives, as the index has them
        none = self._topics.fuse(scores, model.probabilities(words), self._model_docs)
        # "none of these" competes with the topics: a topic must score above it
        floor = max(floor, OUT_OF_SCOPE_WEIGHT * none)
        return best_topics(scores), floor, False

