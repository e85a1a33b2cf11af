"""The topic index: which topics a question's words point to, and how strongly.

An inverted index of word stems over every topic's keywords, title, summary and body in all
three languages, with per-topic weights stored impact-ordered in compact arrays, so a question
touches only the posting lists of its own words (and only their best entries); keyword phrases
score as a whole; the topic model's probabilities are fused with the scores; and the decision
(a topic, how sure, the runners-up) is taken here.

Words are compared by their :mod:`textnorm` keys, so Kazakh typed in Latin or without the
Kazakh letters meets the Cyrillic content. Everything here is pure Python and synchronous.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.answers.content import LANGS, Topic
from bot.answers.countries import CountryMatcher, is_citizenship, merge_hyphen_suffixes, names_home
from bot.answers.language import Vocabulary
from bot.answers.topic_model import OUT_OF_SCOPE
from bot.answers.words import MIN_STEM, STOP_KEYS, is_stop, stop_element
from bot.shared.textnorm import WORD_RE, Token, is_cyrillic, is_latin, key, plain_latin, tokenize

# --- topic scoring -----------------------------------------------------------------------
KEYWORD_WEIGHT = 3.0
TITLE_WEIGHT = 2.5
SUMMARY_WEIGHT = 1.2
BODY_WEIGHT = 0.4
OTHER_FIELDS_SHARE = 0.2  # fields beyond a word's strongest one add this share of their weight
PHRASE_BONUS = 1.5  # a whole keyword phrase present: this times the phrase's idf sum
STOPWORD_PHRASE_IDF = 0.1  # what a function word adds to a matched phrase's weight
OTHER_SCRIPT_FACTOR = 0.6  # a Latin word matched through its transliteration, or vice versa
# A keyword phrase that names a country ("US visa", «Кореяда жұмыс») stands for the same
# phrase with any country: the name is a slot, filled by any country the question names, and
# worth this much of the phrase's weight. The name itself is no evidence for the topic.
COUNTRY_SLOT = "@country"
COUNTRY_SLOT_WEIGHT = 0.5

PREFIX_CYRILLIC = 6  # letters of a (folded) Kazakh or Russian word that make its term
PREFIX_LATIN = 6  # ... of an English word, after its plural or -ed/-ing ending is cut
MAX_SUFFIX = 6  # longest ending by which a word may extend a short word
MAX_POSTINGS_SCAN = 1500  # best entries read from one posting list at question time
BUILD_CACHE_LIMIT = 20_000  # texts and keyword phrases remembered while building

# --- topic decision ------------------------------------------------------------------------
NOTHING_FITS_SCORE = 1.0  # below this best score: no topic
OUT_OF_SCOPE_SCORE = 4.0  # ... and below this one when the question is about something else
SCORE_SCALE = 3.0  # score at which the strength part of confidence reaches ~0.63
UNSURE_CONFIDENCE = 0.45  # below: the bot offers the topic and alternatives as buttons
UNSURE_MARGIN = 0.2  # relative lead over the runner-up below which we are unsure
ALTERNATIVES = 3
ALTERNATIVE_MIN_SHARE = 0.3  # an alternative scores at least this share of the best
HOME_PENALTY = 0.7  # a question about a foreign country, not Kazakhstan: topics lose this
# times the share of their keyword phrases that name Kazakhstan
HOME_BONUS = 1.0  # ... and one about Kazakhstan, not abroad, makes them gain this times it

# --- the topic model (bot.answers.topic_model), fused with the index's scores ---------------
# (tuned on tests/data/questions.yaml and questions_styles.yaml only)
MODEL_WEIGHT = 6.0  # a topic's model probability adds this times it to its index score
INDEX_SHARE = 0.7  # ... to this share of its index score
MODEL_MIN_PROBABILITY = 0.02  # topics the model gives less are left as the index scored them
OUT_OF_SCOPE_WEIGHT = 18.0  # a topic must score above this times the out-of-scope probability

_TAG = re.compile(r"<[^>]+>")


_EN_ENDINGS = (
    ("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"),
    ("ing", ""), ("ed", ""), ("ly", ""), ("s", ""),
)  # fmt: skip


def stem_latin(w: str) -> str:
    for end, repl in _EN_ENDINGS:
        if w.endswith(end) and len(w) - len(end) >= MIN_STEM and not w.endswith("ss"):
            return w[: -len(end)] + repl
    return w


def cyrillic_term(k: str) -> str:
    """A long word's first letters; a short word without its final vowels (виза, визы, визу)."""
    if len(k) > PREFIX_CYRILLIC:
        return k[:PREFIX_CYRILLIC]
    stripped = k.rstrip("аеиоу")
    return stripped if len(stripped) >= MIN_STEM else k


def latin_term(w: str) -> str:
    return "~" + stem_latin(w)[:PREFIX_LATIN]


@dataclass
class _Lexicon:
    """Maps typed words to term ids.

    A long word's term is its first letters, a short word's its stem. A word whose term the
    content lacks may still extend a short word by an ending ("визаға" → "виза").
    """

    prefix: int
    terms: dict[str, int] = field(default_factory=dict)
    short: dict[str, int] = field(default_factory=dict)

    def add(self, term: str, ids: dict[str, int]) -> int:
        """The id of a term; ids are shared across lexicons so postings can live in one list."""
        tid = self.terms.get(term)
        if tid is None:
            tid = ids.setdefault(term, len(ids))
            self.terms[term] = tid
        return tid

    def finish(self) -> None:
        self.short = {term: tid for term, tid in self.terms.items() if len(term) < self.prefix}

    def match(self, term: str, word_length: int) -> int | None:
        """The word's own term or, failing that, the longest short word it extends."""
        tid = self.terms.get(term)
        if tid is not None:
            return tid
        for end in range(min(len(term), self.prefix) - 1, MIN_STEM - 1, -1):
            tid = self.short.get(term[:end])
            if tid is not None and word_length - end <= MAX_SUFFIX:
                return tid
        return None


def _plain(html: str) -> str:
    return _TAG.sub(" ", html)


_SPECIAL_CHARS = frozenset("-‐‑–.")
_TEXT_FIELDS = {"title": TITLE_WEIGHT, "summary": SUMMARY_WEIGHT, "body": BODY_WEIGHT}


class _Builder:
    """Turns topics into postings. Caches words, texts and keyword phrases, since a large
    store repeats them, and appends postings to compact arrays to keep the peak small."""

    def __init__(self, countries: CountryMatcher) -> None:
        self.countries = countries
        self.ids: dict[str, int] = {}
        self.cyr = _Lexicon(PREFIX_CYRILLIC)
        self.lat = _Lexicon(PREFIX_LATIN + 1)
        self.post_ids: list[array[int]] = []
        self.post_w: list[array[float]] = []
        self.phrase_ids: dict[tuple[int | str, ...], int] = {}
        self.pair_phrase = array("I")  # (phrase, topic) pairs, one per keyword phrase
        self.pair_doc = array("I")
        self.home = array("f")
        self.seen_words: dict[str, set[str]] = {lang: set() for lang in LANGS}
        self._words: dict[tuple[str, bool], tuple[int, ...]] = {}
        self._texts: dict[tuple[str, bool], dict[int, int]] = {}
        self._keywords: dict[tuple[str, str], tuple[tuple[int | str, ...], bool]] = {}
        self._topic_texts: dict[tuple[str, ...], dict[int, tuple[float, float]]] = {}
        self._placeish: dict[str, bool] = {}
        self._tokens: dict[str, Token] = {}

    def add_topic(self, doc: int, topic: Topic) -> None:
        keyword_terms: set[int] = set()
        phrases = home = 0
        for lang in LANGS:
            for phrase in topic.keywords.get(lang):
                elements, names_home = self._keyword(phrase, lang)
                phrases += 1
                home += names_home
                keyword_terms.update(e for e in elements if isinstance(e, int))
                if len(elements) >= 2 and any(isinstance(e, int) for e in elements):
                    self.pair_phrase.append(self._phrase_id(elements))
                    self.pair_doc.append(doc)
        self.home.append(home / max(1, phrases))
        texts = self._texts_of(topic)
        for tid, (top, total) in texts.items():
            if tid in keyword_terms:
                top, total = max(top, KEYWORD_WEIGHT), total + KEYWORD_WEIGHT
            self.post_ids[tid].append(doc)
            self.post_w[tid].append(top + OTHER_FIELDS_SHARE * (total - top))
        for tid in keyword_terms.difference(texts):
            self.post_ids[tid].append(doc)
            self.post_w[tid].append(KEYWORD_WEIGHT)

    def _texts_of(self, topic: Topic) -> dict[int, tuple[float, float]]:
        """Per term, the best and the summed weight of the fields (title, summary, body) it is
        in, each field taken at its best across languages. Topics that share their texts (a
        large store made from templates) are read once."""
        texts = tuple(getattr(topic, f).get(lang) for f in _TEXT_FIELDS for lang in LANGS)
        cached = self._topic_texts.get(texts)
        if cached is not None:
            return cached
        per_field: dict[int, list[float]] = {}
        for i, (field_name, weight) in enumerate(_TEXT_FIELDS.items()):
            for j, lang in enumerate(LANGS):
                for tid, n in self._text(texts[i * len(LANGS) + j], lang).items():
                    w = weight * min(2.0, 1.0 + 0.3 * (n - 1)) if field_name == "body" else weight
                    best = per_field.setdefault(tid, [0.0, 0.0, 0.0])
                    best[i] = max(best[i], w)
        result = {tid: (max(ws), sum(ws)) for tid, ws in per_field.items()}
        if len(self._topic_texts) < BUILD_CACHE_LIMIT:
            self._topic_texts[texts] = result
        return result

    def _keyword(self, phrase: str, lang: str) -> tuple[tuple[int | str, ...], bool]:
        """A keyword phrase as terms and function words, without the countries it names; and
        whether it names Kazakhstan."""
        cached = self._keywords.get((phrase, lang))
        if cached is not None:
            return cached
        tokens = self._phrase_tokens(phrase)
        named: set[int] = set()
        if any(self._could_name_place(t) for t in tokens):
            named = {j for a, b, *_ in self.countries.find(tokens) for j in range(a, b + 1)}
        elements: list[int | str] = []
        for j, tok in enumerate(tokens):
            if j in named:
                elements.append(COUNTRY_SLOT)
                continue
            if is_stop(tok):
                elements.append(stop_element(tok))
            else:
                elements.extend(self._word(tok.raw, lang == "en")[:1])
            self._see(tok.raw, lang)
        # "visa for Kazakhstan citizens" is about where they go, not about Kazakhstan
        home = any(
            names_home(t) and not is_citizenship(tokens, j, j) for j, t in enumerate(tokens)
        )
        result = tuple(dict.fromkeys(elements)), home
        if len(self._keywords) < BUILD_CACHE_LIMIT:
            self._keywords[(phrase, lang)] = result
        return result

    def _phrase_tokens(self, phrase: str) -> list[Token]:
        """tokenize(), with each word's forms computed once for the whole store; phrases with
        hyphens, dots or unnormalised letters take the full path."""
        if any(ch in phrase for ch in _SPECIAL_CHARS) or not unicodedata.is_normalized(
            "NFC", phrase
        ):
            return merge_hyphen_suffixes(tokenize(phrase))
        out = []
        for raw in WORD_RE.findall(phrase):
            tok = self._tokens.get(raw)
            if tok is None:
                tok = self._tokens[raw] = tokenize(raw)[0]
            out.append(tok)
        return out

    def _could_name_place(self, tok: Token) -> bool:
        """Whether a word can be (part of) a country's name: most cannot, and then a keyword
        phrase needs no search for countries."""
        cached = self._placeish.get(tok.raw)
        if cached is None:
            cached = self.countries.could_name(tok)
            self._placeish[tok.raw] = cached
        return cached

    def _phrase_id(self, elements: tuple[int | str, ...]) -> int:
        return self.phrase_ids.setdefault(elements, len(self.phrase_ids))

    def drop_caches(self) -> None:
        self._words, self._texts, self._keywords = {}, {}, {}
        self._topic_texts, self._placeish, self._tokens = {}, {}, {}

    def _text(self, html: str, lang: str) -> dict[int, int]:
        """Term counts of one text; identical texts are read once."""
        cache_key = (html, lang == "en")
        cached = self._texts.get(cache_key)
        if cached is not None:
            return cached
        counts: dict[int, int] = {}
        for m in WORD_RE.finditer(_plain(html)):
            raw = m.group(0)
            self._see(raw, lang)
            for tid in self._word(raw, lang == "en"):
                counts[tid] = counts.get(tid, 0) + 1
        if len(self._texts) < BUILD_CACHE_LIMIT:
            self._texts[cache_key] = counts
        return counts

    def _word(self, raw: str, english: bool) -> tuple[int, ...]:
        cached = self._words.get((raw, english))
        if cached is not None:
            return cached
        ids: list[int] = []
        latin = plain_latin(raw) if is_latin(raw) and not is_cyrillic(raw) else ""
        k = key(raw)
        if latin and latin not in STOP_KEYS:
            ids.append(self._term(self.lat, latin_term(latin)))
        if (
            not (latin and english)
            and k not in STOP_KEYS
            and len(k) >= 2
            and latin not in STOP_KEYS
        ):
            ids.append(self._term(self.cyr, cyrillic_term(k)))
        result = tuple(ids)
        self._words[(raw, english)] = result
        return result

    def _term(self, lexicon: _Lexicon, stem: str) -> int:
        tid = lexicon.add(stem, self.ids)
        if tid == len(self.post_ids):
            self.post_ids.append(array("I"))
            self.post_w.append(array("f"))
        return tid

    def _see(self, raw: str, lang: str) -> None:
        if lang == "en":
            if is_latin(raw) and not is_cyrillic(raw):
                self.seen_words["en"].add(plain_latin(raw))
        elif is_cyrillic(raw):
            self.seen_words[lang].add(key(raw))


class TopicIndex:
    """The topics' postings and keyword phrases, built once from the content store."""

    def __init__(self) -> None:
        self.slugs: list[str] = []
        self._cyr = _Lexicon(PREFIX_CYRILLIC)
        self._lat = _Lexicon(PREFIX_LATIN + 1)
        self._idf: array[float] = array("f")
        self._post_ids: list[array[int]] = []
        self._post_w: list[array[float]] = []
        self._phrase_docs = array("I")
        self._phrase_start = array("I")
        self._home = array("f")
        self._phrase_total = array("f")
        self._phrase_index: dict[int | str, array[int]] = {}

    @classmethod
    def build(
        cls, topics: Mapping[str, Topic], countries: CountryMatcher
    ) -> tuple[TopicIndex, Vocabulary]:
        """The index, and the word forms seen in only one language of the content."""
        self = cls()
        builder = _Builder(countries)
        for doc, (slug, topic) in enumerate(topics.items()):
            self.slugs.append(slug)
            builder.add_topic(doc, topic)
        builder.drop_caches()
        self._cyr, self._lat = builder.cyr, builder.lat
        self._cyr.finish()
        self._lat.finish()
        self._finish_postings(builder.post_ids, builder.post_w)
        self._finish_phrases(builder)
        self._home = builder.home
        seen = builder.seen_words
        vocabulary = Vocabulary(
            frozenset(seen["kk"] - seen["ru"]),
            frozenset(seen["ru"] - seen["kk"]),
            frozenset(seen["en"]),
            frozenset().union(*seen.values()),
        )
        return self, vocabulary

    def docs_of(self, classes: Sequence[str]) -> tuple[int, ...]:
        """Per topic model class, its topic (-1: none)."""
        docs = {slug: d for d, slug in enumerate(self.slugs)}
        return tuple(docs.get(c, -1) for c in classes)


    def _finish_postings(self, ids: list[array[int]], weights: list[array[float]]) -> None:
        """Idf per term, and each posting list ordered by weight, best first."""
        n_docs = max(1, len(self.slugs))
        norm = math.log(1 + n_docs)
        self._idf = array("f", (math.log(1 + n_docs / max(1, len(d))) / norm for d in ids))
        for tid, (d, w) in enumerate(zip(ids, weights, strict=True)):
            order = sorted(range(len(w)), key=w.__getitem__, reverse=True)
            self._post_ids.append(array("I", (d[i] for i in order)))
            self._post_w.append(array("f", (w[i] for i in order)))
            ids[tid], weights[tid] = _NO_IDS, _NO_WEIGHTS

    def _finish_phrases(self, builder: _Builder) -> None:
        """Distinct keyword phrases with their weights, the topics that have each (packed in
        one array, phrase by phrase), and an index from each word to the phrases holding it."""
        elements_of = list(builder.phrase_ids)
        builder.phrase_ids = {}
        counts = array("I", bytes(4 * (len(elements_of) + 1)))
        for sid in builder.pair_phrase:
            counts[sid + 1] += 1
        for sid in range(len(elements_of)):
            counts[sid + 1] += counts[sid]
        self._phrase_start = array("I", counts)
        docs = array("I", bytes(4 * len(builder.pair_doc)))
        for sid, doc in zip(builder.pair_phrase, builder.pair_doc, strict=True):
            docs[counts[sid]] = doc
            counts[sid] += 1
        self._phrase_docs = docs
        index: dict[int | str, array[int]] = {}
        for sid, elements in enumerate(elements_of):
            self._phrase_total.append(sum(self._element_weight(e) for e in elements))
            for e in elements:
                index.setdefault(e, array("I")).append(sid)
        self._phrase_index = index

    # -- questions --
    def _query_terms(
        self, tokens: Sequence[Token], lang: str
    ) -> tuple[dict[int, float], set[int | str]]:
        """The terms of the content words with their query weights, and every phrase element
        present (term ids and function words)."""
        terms: dict[int, float] = {}
        present: set[int | str] = set()
        for tok in tokens:
            if is_stop(tok):
                present.add(stop_element(tok))
                continue
            hit = self._match_token(tok, lang)
            if hit is not None:
                tid, weight = hit
                terms[tid] = max(terms.get(tid, 0.0), weight)
                present.add(tid)
        return terms, present

    def _match_token(self, tok: Token, lang: str) -> tuple[int, float] | None:
        latin = self._lat.match(latin_term(tok.latin), len(tok.latin) + 1) if tok.latin else None
        cyr = self._cyr.match(cyrillic_term(tok.key), len(tok.key)) if len(tok.key) >= 2 else None
        first, second = (latin, cyr) if tok.latin and lang == "en" else (cyr, latin)
        if first is not None:
            return first, 1.0
        if second is not None:
            return second, OTHER_SCRIPT_FACTOR
        return None

    def fuse(
        self, scores: dict[int, float], probabilities: dict[str, float], docs: Sequence[int]
    ) -> float:
        """Add the topic model's probabilities to the index's scores, in place; the model's
        probability that the question is out of scope."""
        for c, p in enumerate(probabilities.values()):
            d = docs[c]
            if d >= 0 and p >= MODEL_MIN_PROBABILITY:
                scores[d] = scores.get(d, 0.0) * INDEX_SHARE + MODEL_WEIGHT * p
        return probabilities.get(OUT_OF_SCOPE, 0.0)

    def scores(
        self, tokens: Sequence[Token], lang: str, focus: str, country: bool = False
    ) -> dict[int, float]:
        terms, present = self._query_terms(tokens, lang)
        if country:
            present.add(COUNTRY_SLOT)
        scores: dict[int, float] = {}
        get = scores.get
        for tid, qw in terms.items():
            factor = qw * self._idf[tid]
            ids = self._post_ids[tid][:MAX_POSTINGS_SCAN]
            for d, w in zip(ids, self._post_w[tid][:MAX_POSTINGS_SCAN], strict=True):
                scores[d] = get(d, 0.0) + factor * w
        for d, bonus in self._phrase_bonus(present).items():
            scores[d] = scores.get(d, 0.0) + bonus
        if focus == "abroad":
            for d in scores:
                scores[d] *= max(0.0, 1.0 - HOME_PENALTY * self._home[d])
        elif focus == "home":
            for d in scores:
                scores[d] *= 1.0 + HOME_BONUS * self._home[d]
        return scores

    def _phrase_bonus(self, present: set[int | str]) -> dict[int, float]:
        """Per topic, its best keyword phrase: the weight of the phrase's words present, times
        the share of the phrase they cover, so a whole phrase counts more than scattered words.

        Only phrases holding two words or more of the question get a bonus; they are found
        with set operations, and only their weights are summed."""
        groups: list[tuple[float, set[int]]] = []
        seen: set[int] = set()
        repeated: set[int] = set()
        for element in present:
            sets = self._phrase_index.get(element)
            if not sets:
                continue
            members = set(sets[:MAX_POSTINGS_SCAN])
            repeated |= seen & members
            seen |= members
            groups.append((self._element_weight(element), members))
        bonus: dict[int, float] = {}
        for sid in repeated:
            got = 0.0
            for weight, members in groups:
                if sid in members:
                    got += weight
            value = PHRASE_BONUS * got * got / self._phrase_total[sid]
            for d in self._phrase_docs[self._phrase_start[sid] : self._phrase_start[sid + 1]]:
                if value > bonus.get(d, 0.0):
                    bonus[d] = value
        return bonus

    def _element_weight(self, element: int | str) -> float:
        if isinstance(element, int):
            return self._idf[element]
        return COUNTRY_SLOT_WEIGHT if element == COUNTRY_SLOT else STOPWORD_PHRASE_IDF


# Empty arrays put in place of the builder's posting lists once copied, to free them early.
_NO_IDS: array[int] = array("I")
_NO_WEIGHTS: array[float] = array("f")
_SORT_ALL = 256  # up to this many scored topics, one sort in C beats a heap walked in Python


def best_topics(scores: dict[int, float]) -> list[tuple[float, int]]:
    """The best (score, topic) pairs, enough for the pick and its alternatives."""
    pairs = zip(scores.values(), scores.keys(), strict=True)
    if len(scores) <= _SORT_ALL:
        return sorted(pairs, reverse=True)[: ALTERNATIVES + 1]
    return heapq.nlargest(ALTERNATIVES + 1, pairs)


def decide(
    ranked: list[tuple[float, int]], floor: float = NOTHING_FITS_SCORE
) -> tuple[int | None, float, tuple[int, ...]]:
    """The topic (none below `floor`), a 0..1 confidence mixing strength and lead, and the
    runners-up."""
    if not ranked or ranked[0][0] < floor:
        return None, 0.0, ()
    best, doc = ranked[0]
    second = ranked[1][0] if len(ranked) > 1 else 0.0
    strength = 1.0 - math.exp(-best / SCORE_SCALE)
    lead = (best - second) / best
    confidence = (
        strength * min(1.0, 0.5 + lead / (2 * UNSURE_MARGIN) * 0.5)
        if lead < UNSURE_MARGIN
        else strength
    )
    if lead < UNSURE_MARGIN:
        confidence = min(confidence, UNSURE_CONFIDENCE - 0.01)
    alternatives = tuple(d for s, d in ranked[1:] if s >= ALTERNATIVE_MIN_SHARE * best)
    return doc, confidence, alternatives[:ALTERNATIVES]

