"""Countries named in a question: by Babel's official names, the content's aliases (demonyms,
cities) and mission cities, tolerant to Russian and Kazakh case endings and Latin spellings;
which of them the question is about; and whether it names Kazakhstan as home or as whose
citizens someone is."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from babel import Locale

from bot.answers.content import LANGS, Country
from bot.answers.spelling import NearForms
from bot.answers.words import MIN_STEM, STOP_KEYS, word_set
from bot.shared.textnorm import Token, fold, key, latin_to_cyrillic, tokenize, without_kk_schwa

CITY_STRENGTH = 0.8
SHORT_NAME = 3  # names this short match only whole (plus a case ending)
MIN_COUNTRY_STEM = 4
# A word the analyzer does not otherwise know, one edit away from the name of one country
# ("египед", "koera"), names it, less surely than the name itself; never a short name.
NEAR_STRENGTH = 0.6  # times the name's own strength
NEAR_MIN = 5  # letters of both the name and the word (before its case ending)
NEAR_STEM = 6  # ... and of the word when a case ending follows


# Case endings after a country name, in key form (Russian, then Kazakh).
_RU_ENDINGS = word_set("а у е и о ом ем ои еи ам ами ах ов ев иу иа ие ии иеи ием иам иах иами ую")
# Adjective endings after an adjective's stem (американск+ого, турецк+ая) and after a name
# (китай+ский, египет+ского).
_RU_ADJ = word_set("ии ого ому им их ими ое ие иу аиа ои")
_RU_ADJ_AFTER_NAME = frozenset("ск" + e for e in _RU_ADJ)
_KK_CASES = word_set("""
га ге ка ке на не а е ни ди ти нин дин тин да де та те нда нде дан ден тан тен нан нен мен бен
пен даги деги таги теги дагилар лик ликтер ликтар ша ше сина сине синда синан
дамин демин тамин темин дамиз демиз тамиз темиз дасин десин ндамин ндемин дик тик ндик
ина ине инда инде инан инен синде синен
""")  # "I am / we are in ..." (Түркиядамын, Кореядамыз), -лық demonyms, and the
# possessive before a case (Әмірлігіне, Кореясында)
COUNTRY_SUFFIXES = _RU_ENDINGS | _RU_ADJ | _RU_ADJ_AFTER_NAME | _KK_CASES | {""}
_LONGEST_SUFFIX = max(map(len, COUNTRY_SUFFIXES))

# Names that, once Kazakh letters are folded, are also everyday Kazakh words: «Қазан» is
# October, «қатар» a row. They count only in the spellings given here (by lowercase prefix).
AMBIGUOUS_NAMES = {"казан": ("казань", "казани", "kazan"), "катар": ("катар", "qatar")}

# Words that make a nationality word name a language rather than a country.
_LANGUAGE_WORDS = frozenset(
    (
        "language",
        "languages",
        "speak",
        "speaks",
        "spoken",
        "язык",
        "языке",
        "языком",
        "тіл",
        "тілі",
        "тілінде",
        "тилде",
        "тили",
    )
)

LATIN_COUNTRY_ENDINGS = ("s", "n", "an", "ian", "ese", "ish", "i")

# Kazakh endings that end a word after a hyphen ("БАӘ-ге", "АҚШ-қа").
HYPHEN_SUFFIXES = _KK_CASES | {fold(s) for s in _KK_CASES}

_ABLATIVE_WORDS = frozenset(("из", "from", "с", "от"))
_ABLATIVE_ENDINGS = ("дан", "ден", "тан", "тен", "нан", "нен")

_HOME_KEYS = ("казах", "казак")
_HOME_LATIN = ("kazakh", "qazaq", "kazak")


_CITIZEN_BEFORE = ("граждан", "подданн")  # гражданам Казахстана
_CITIZEN_AFTER = ("азамат",)  # Қазақстан азаматтарына
_CITIZEN_LATIN = ("citizen", "passport", "national", "holder")  # Kazakh passport holder
_CITIZEN_WORDS = ("казахстантс", "казакстандик")  # казахстанцам, қазақстандық


def names_home(tok: Token) -> bool:
    """Whether a word names Kazakhstan or Kazakhs (Қазақстан, казахстанский, Kazakh, ...)."""
    return tok.key.startswith(_HOME_KEYS) or tok.latin.startswith(_HOME_LATIN)


class Mention(NamedTuple):
    """A country named in a text: its tokens, ISO code, how sure, and whether by a nationality
    word ("British", «қытайлық») rather than a place name."""

    start: int
    end: int
    iso: str
    strength: float
    demonym: bool = False
    near: bool = False  # one edit away from the name, not the name itself


def is_citizenship(tokens: Sequence[Token], start: int, end: int) -> bool:
    """Whether a place is named as whose citizens someone is, not as where they go or are."""
    tok = tokens[start]
    if tok.key.startswith(_CITIZEN_WORDS) or tok.latin == "kazakh":
        return True
    before = tokens[start - 1] if start > 0 else None
    after = tokens[end + 1] if end + 1 < len(tokens) else None
    return bool(
        (before and before.key.startswith(_CITIZEN_BEFORE))
        or (
            after
            and (after.key.startswith(_CITIZEN_AFTER) or after.latin.startswith(_CITIZEN_LATIN))
        )
    )


def place_focus(tokens: Sequence[Token], mentions: list[Mention]) -> str:
    """ "abroad" when the question names a foreign country as a place and not Kazakhstan,
    "home" for the reverse, "" otherwise."""
    foreign = any(not (m.demonym or is_citizenship(tokens, m.start, m.end)) for m in mentions)
    home = any(names_home(t) and not is_citizenship(tokens, i, i) for i, t in enumerate(tokens))
    if foreign != home:
        return "abroad" if foreign else "home"
    return ""


@dataclass(frozen=True)
class _Name:
    iso: str
    words: tuple[str, ...]  # keys, or plain Latin words
    strength: float
    official: bool


@dataclass
class CountryMatcher:
    """Finds countries named in a text, by official name, alias or mission city."""

    single: dict[str, list[tuple[str, float, bool]]] = field(default_factory=dict)
    single_latin: dict[str, list[tuple[str, float, bool]]] = field(default_factory=dict)
    single_latin_stems: dict[str, list[tuple[str, float, bool]]] = field(default_factory=dict)
    name_langs: dict[str, set[str]] = field(default_factory=dict)
    key_langs: dict[str, set[str]] = field(default_factory=dict)  # the same, by keys
    exact_short: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    guarded_latin: frozenset[str] = frozenset()
    multi: dict[str, list[_Name]] = field(default_factory=dict)
    names: list[_Name] = field(default_factory=list)
    # What the tables' keys start with and how long they are, so a word that cannot name a
    # country is passed over after one set lookup and no prefix is looked up in vain.
    multi_heads: frozenset[str] = frozenset()
    multi_lengths: tuple[int, ...] = ()
    single_heads: frozenset[str] = frozenset()
    single_longest: int = 0
    latin_heads: frozenset[str] = frozenset()
    short_heads: frozenset[str] = frozenset()
    short_longest: int = 0
    cyrillic_single: set[str] = field(default_factory=set)  # keys of names in Cyrillic
    near_keys: NearForms = field(default_factory=lambda: NearForms(()))
    near_latin: NearForms = field(default_factory=lambda: NearForms(()))
    # Words of the languages and of the content: never read as a misspelt country.
    known: frozenset[str] = frozenset()

    @classmethod
    def build(cls, countries: Mapping[str, Country]) -> CountryMatcher:
        self = cls()
        guarded: set[str] = set()
        for iso, country in countries.items():
            for lang, text, strength, official in _country_names(iso, country):
                for spelling in dict.fromkeys((text, without_kk_schwa(text))):
                    self._add(iso, spelling, strength, official, guarded)
                self.name_langs.setdefault(_surface(text), set()).add(lang)
                self.key_langs.setdefault(_keyed(text), set()).add(lang)
        self.guarded_latin = frozenset(guarded)
        self._index_keys()
        return self

    def _index_keys(self) -> None:
        self.multi_heads = frozenset(k[:MIN_STEM] for k in self.multi)
        self.multi_lengths = tuple(sorted({len(k) for k in self.multi}, reverse=True))
        self.single_heads = _heads(self.single, MIN_COUNTRY_STEM)
        self.single_longest = max(map(len, self.single), default=0)
        self.latin_heads = _heads([*self.single_latin, *self.single_latin_stems], MIN_COUNTRY_STEM)
        self.short_heads = _heads(self.exact_short, 2)
        self.short_longest = max(map(len, self.exact_short), default=0)
        # not the names that are also everyday Kazakh words (Қазан, Қатар): they are near
        # everyday words too
        self.near_keys = NearForms(k for k in self.cyrillic_single
                                   if len(k) >= NEAR_MIN and k[:5] not in AMBIGUOUS_NAMES)
        self.near_latin = NearForms(w for w in self.single_latin
                                    if len(w) >= NEAR_MIN and key(w)[:5] not in AMBIGUOUS_NAMES)

    def _add(
        self, iso: str, text: str, strength: float, official: bool, guarded: set[str]
    ) -> None:
        tokens = merge_hyphen_suffixes(tokenize(text))
        if not tokens:
            return
        latin = all(t.latin for t in tokens)
        if len(tokens) == 1:
            tok = tokens[0]
            if latin:
                self.single_latin.setdefault(tok.latin, []).append((iso, strength, official))
                for stem in {tok.latin, tok.latin.rstrip("aeiy")}:
                    self.single_latin_stems.setdefault(stem, []).append((iso, strength, official))
                if len(tok.latin) <= SHORT_NAME + 1 and tok.latin in STOP_KEYS | STOP_LATIN_SHORT:
                    guarded.add(tok.latin)
            short = _short_form(tok)
            if len(short) <= SHORT_NAME + 1 and (tok.raw.isupper() or len(short) <= SHORT_NAME):
                self.exact_short.setdefault(short, []).append((iso, strength))
                if latin:
                    return
            demonym = text[:1].islower()  # nationality words are written in lowercase
            for variant in _stem_variants(tok.key):
                self.single.setdefault(variant, []).append((iso, strength, demonym))
                if not latin:
                    self.cyrillic_single.add(variant)
            self.names.append(_Name(iso, (tok.key,), strength, official))
            if latin:
                self.names.append(_Name(iso, (tok.latin,), strength, official))
            return
        for words in {
            tuple(t.key for t in tokens),
            tuple(t.latin for t in tokens) if latin else (),
        }:
            if not words:
                continue
            name = _Name(iso, words, strength, official)
            self.names.append(name)
            self.multi.setdefault(_word_stem(words[0]), []).append(name)

    def know(self, words: Iterable[str]) -> None:
        """The words (keys, plain Latin) that are never read as a misspelt country."""
        self.known = frozenset(words)

    def find(self, tokens: Sequence[Token], near: bool = False) -> list[Mention]:
        """Country mentions as (first token, last token, ISO, strength), in text order;
        with ``near``, also unknown words one edit from a country's name."""
        found: list[Mention] = []
        taken: set[int] = set()
        for i in range(len(tokens)):
            for name in self._multi_candidates(tokens[i]):
                end = i + len(name.words)
                if (
                    end <= len(tokens)
                    and all(_word_matches(tokens[i + j], w) for j, w in enumerate(name.words[:-1]))
                    and self._last_word_matches(tokens, end - 1, name)
                    and not taken.intersection(range(i, end))
                ):
                    found.append(Mention(i, end - 1, name.iso, name.strength))
                    taken.update(range(i, end))
        language = any(t.lower in _LANGUAGE_WORDS for t in tokens)
        for i in range(len(tokens)):
            if i in taken:
                continue
            hit = self._single(tokens, i)
            if hit and _ambiguous_ok(tokens[i]) and not (language and hit[2] and tokens[i].latin):
                found.append(Mention(i, i, hit[0], hit[1], hit[2]))
                taken.add(i)
            elif near and not hit and self.known:
                hit = self._near(tokens[i])
                if hit:
                    found.append(Mention(i, i, hit[0], hit[1], hit[2], near=True))
                    taken.add(i)
        found.sort()
        return found

    def could_name(self, tok: Token) -> bool:
        """Whether a word can be (part of) a country's name."""
        return bool(
            self._multi_candidates(tok)
            or self._single([tok], 0)
            or tok.latin in self.guarded_latin
            or tok.hyphen
        )

    def _near(self, tok: Token) -> tuple[str, float, bool] | None:
        """(ISO, strength, by a nationality word) for a word the analyzer does not know that
        is one edit from the one-word names of exactly one country, before a case ending."""
        known = self.known
        if tok.key in known or tok.latin in known or tok.lower in known or names_home(tok):
            return None
        hits: list[tuple[str, float, bool]] = []
        if tok.latin:
            if len(tok.latin) >= NEAR_MIN:
                for form in self.near_latin.near(tok.latin):
                    demonym = form.endswith(_LATIN_DEMONYM_ENDINGS) or form in _LATIN_DEMONYMS
                    hits.extend((iso, s, demonym) for iso, s, _ in self.single_latin[form])
        else:
            k = tok.key
            for end in range(len(k), max(NEAR_MIN, len(k) - _LONGEST_SUFFIX) - 1, -1):
                ending, stem = k[end:], k[:end]
                if ending not in COUNTRY_SUFFIXES or stem in known or (
                        ending and len(stem) < NEAR_STEM):  # «прадеда» is not «Праге»+да
                    continue
                for form in self.near_keys.near(stem):
                    hits.extend((iso, s, d or _is_adjective_ending(ending))
                                for iso, s, d in self.single[form])
        if len({iso for iso, _, _ in hits}) != 1:
            return None
        iso, strength, demonym = max(hits, key=lambda h: h[1])
        return iso, strength * NEAR_STRENGTH, demonym

    def _last_word_matches(self, tokens: Sequence[Token], i: int, name: _Name) -> bool:
        """The last word of a multi-word name, or another form of it that names the same
        country on its own: «Біріккен Араб Әмірлігі» for «... Әмірліктері» (alias Әмірлік)."""
        if _word_matches(tokens[i], name.words[-1]):
            return True
        hit = self._single(tokens, i)
        return hit is not None and hit[0] == name.iso

    def _multi_candidates(self, tok: Token) -> list[_Name]:
        """Multi-word names whose first word the token may be, longest names first."""
        out: list[_Name] = []
        for form in (tok.key, tok.latin):
            if not form or form[:MIN_STEM] not in self.multi_heads:
                continue
            for end in self.multi_lengths:
                if end <= len(form):
                    out.extend(self.multi.get(form[:end], ()))
        if not out:
            return out
        return sorted(dict.fromkeys(out), key=lambda n: -len(n.words))

    def _single(self, tokens: Sequence[Token], i: int) -> tuple[str, float, bool] | None:
        """(ISO, strength, by a nationality word) for a one-word name at token i."""
        tok = tokens[i]
        if tok.latin:
            hits, demonym = self._latin_hits(tok.latin)
            if hits and (tok.latin not in self.guarded_latin or _guard_ok(tokens, i)):
                return hits[0][0], hits[0][1], demonym
            translit = fold(latin_to_cyrillic(tok.latin))
            for end in self._short_ends(translit, len(translit) - 1):
                short_hits = self.exact_short.get(translit[:end])
                if short_hits and translit[end:] in COUNTRY_SUFFIXES:
                    return short_hits[0][0], short_hits[0][1], False
        short = _short_form(tok)
        for end in self._short_ends(short, len(short)):
            short_hits = self.exact_short.get(short[:end])
            if (
                short_hits
                and short[end:] in COUNTRY_SUFFIXES
                and (
                    not tok.latin
                    or (
                        end == len(short)
                        and (tok.latin not in self.guarded_latin or _guard_ok(tokens, i))
                    )
                )
            ):
                return short_hits[0][0], short_hits[0][1], False
        k = tok.key
        if k[:MIN_COUNTRY_STEM] not in self.single_heads:
            return None
        lowest = max(MIN_COUNTRY_STEM, len(k) - _LONGEST_SUFFIX)
        for end in range(min(len(k), self.single_longest), lowest - 1, -1):
            hits = self.single.get(k[:end])
            # keys collapse doubled letters: Үндістан+нан is "...стан" + "ан"
            if hits and (k[end:] in COUNTRY_SUFFIXES or k[end - 1 :] in COUNTRY_SUFFIXES):
                best = max(hits, key=lambda h: h[1])
                return best[0], best[1], best[2] or _is_adjective_ending(k[end:])
        return None

    def _short_ends(self, word: str, longest: int) -> range:
        """Where a short name may end in `word` (at `longest` at most), longest first: it is
        followed by a case ending, and no short name is longer than `short_longest`."""
        if word[:2] not in self.short_heads:
            return _NO_ENDS
        return range(min(longest, self.short_longest), max(1, len(word) - _LONGEST_SUFFIX - 1), -1)

    def language_of(
        self, tokens: Sequence[Token], mentions: list[Mention] | None = None
    ) -> str | None:
        """For a message that is only a country's name: the one language that name is in.
        `mentions` are ``find(tokens)`` when the caller has them already."""
        langs = self.name_langs.get(" ".join(t.lower for t in tokens), _NO_LANGS)
        if len(langs) == 1:
            return next(iter(langs))
        if not langs and tokens and all(t.latin for t in tokens):
            names = self.find(tokens) if mentions is None else mentions
            # a country in Latin letters but not by its English name: Kazakh Latin ("Tailand")
            if len(names) == 1 and names[0].end - names[0].start + 1 == len(tokens):
                return "kk"
        return None

    def spelling_langs(self, tokens: Sequence[Token], mentions: list[Mention]) -> set[str]:
        """The languages that spell every country named the way it is written («Туркия»,
        "Turkiya": Kazakh), compared by keys; empty when the mentions disagree."""
        langs: set[str] | None = None
        for m in mentions:
            spelled = self.key_langs.get(" ".join(t.key for t in tokens[m.start : m.end + 1]))
            if not spelled:
                return set()
            langs = set(spelled) if langs is None else langs & spelled
        return langs or set()

    def _latin_hits(self, word: str) -> tuple[list[tuple[str, float, bool]] | None, bool]:
        """An English name, possibly as a plural or demonym (Indonesian, Chinese, Americans),
        and whether it was a nationality word."""
        hits = self.single_latin.get(word)
        if hits:
            return hits, word.endswith(_LATIN_DEMONYM_ENDINGS) or word in _LATIN_DEMONYMS
        if len(word) > MIN_COUNTRY_STEM and word[:MIN_COUNTRY_STEM] not in self.latin_heads:
            return None, False  # every name below is at least MIN_COUNTRY_STEM long
        if len(word) > MIN_COUNTRY_STEM and word in self.single_latin_stems:  # Czech, German
            return self.single_latin_stems[word], True
        bases = [word, word[:-1]] if word.endswith("s") else [word]
        for base in bases:
            for ending in LATIN_COUNTRY_ENDINGS:
                if base.endswith(ending) and len(base) - len(ending) >= MIN_COUNTRY_STEM:
                    hits = self.single_latin_stems.get(base[: len(base) - len(ending)])
                    if hits:
                        return hits, True
            if base != word and base in self.single_latin:
                return self.single_latin[base], base in _LATIN_DEMONYMS
        return None, False

    def complete(self, text: str, limit: int) -> list[str]:
        """Countries whose names start with (or inflect) what was typed, best first."""
        tokens = merge_hyphen_suffixes(tokenize(text))
        if not tokens:
            return []
        exact = {m.iso for m in self.find(tokens)}
        best: dict[str, float] = {}
        for name in self.names:
            score = _prefix_score(tokens, name)
            if name.iso in exact:
                score = max(score, 2.0)
            if score > best.get(name.iso, 0.0):
                best[name.iso] = score
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        return [iso for iso, score in ranked if score > 0][:limit]


_NO_LANGS: frozenset[str] = frozenset()


def _heads(keys: Iterable[str], size: int) -> frozenset[str]:
    """The first `size` letters of the keys that long: what a word must start with to be
    looked up by its prefixes of `size` letters or more."""
    return frozenset(k[:size] for k in keys if len(k) >= size)


_NO_ENDS = range(0)
_LATIN_DEMONYM_ENDINGS = ("ish", "ian", "ese")
_LATIN_DEMONYMS = word_set("""
american british czech emirati french german israeli korean qatari saudi thai uzbek kyrgyz tajik
turkmen azeri azerbaijani
""")


def _is_adjective_ending(ending: str) -> bool:
    return ending in _RU_ADJ_AFTER_NAME or ending in ("лик", "дик", "тик", "ндик")


def _ambiguous_ok(tok: Token) -> bool:
    """A name that folds into an everyday Kazakh word counts only in its own spellings."""
    allowed = AMBIGUOUS_NAMES.get(tok.key[:5])
    return allowed is None or (tok.latin or tok.lower).startswith(allowed)


STOP_LATIN_SHORT = frozenset(("us", "it", "in", "am", "is", "me", "no", "so", "to", "ok", "oh"))


def _surface(text: str) -> str:
    return " ".join(t.lower for t in tokenize(text))


def _keyed(text: str) -> str:
    return " ".join(t.key for t in tokenize(text))


def _guard_ok(tokens: Sequence[Token], i: int) -> bool:
    """A short alias that is also an English word ("us") counts in capitals or after "the"."""
    tok = tokens[i]
    return tok.raw.isupper() or (i > 0 and tokens[i - 1].lower == "the")


def _short_form(tok: Token) -> str:
    """Lowercase with Kazakh letters folded but nothing collapsed: "БАӘ" stays apart from "ба"."""
    if tok.latin:
        return tok.latin
    return fold(tok.lower)


def _stem_variants(k: str) -> set[str]:
    """Forms a single-word country name is recognised from before a case ending."""
    out = {k}
    if k[-1] in "аеиоу" and len(k) - 1 >= MIN_COUNTRY_STEM:
        out.add(k[:-1])
    if k.endswith("скии") and len(k) > 6:  # an adjective alias: американский → американск+ого
        out.add(k[:-2])
    m = re.search(r"([^аеиоу])[ео]([^аеиоу])$", k)
    if m and len(k) - 1 >= MIN_COUNTRY_STEM:
        out.add(k[: m.start()] + m.group(1) + m.group(2))
    if k[-1] in _KK_VOICED:  # Kazakh voices a final к/қ/п before a vowel: Әмірлік → Әмірлігі
        out.add(k[:-1] + _KK_VOICED[k[-1]])
    return {v for v in out if len(v) >= MIN_COUNTRY_STEM or v == k}


_KK_VOICED = {"к": "г", "п": "б"}  # in key form, where қ and ғ are к and г


def _word_stem(k: str) -> str:
    stripped = k.rstrip("аеиоу") if not k.isascii() else k
    return stripped if len(stripped) >= MIN_STEM else k


def _word_matches(tok: Token, word: str) -> bool:
    """One word of a multi-word name, allowing an ending of up to four letters."""
    if word.isascii():
        form = tok.latin
        return bool(form) and (
            form == word or (form.startswith(word) and len(form) - len(word) <= 2)
        )
    stem = _word_stem(word)
    return tok.key.startswith(stem) and len(tok.key) - len(stem) <= 4


def _prefix_score(tokens: Sequence[Token], name: _Name) -> float:
    """How well a typed (possibly partial) text matches one name, 0 when it does not."""
    forms = [t.latin if name.words[0].isascii() else t.key for t in tokens]
    if not all(forms) or len(forms) > len(name.words):
        return 0.0
    for start in range(len(name.words) - len(forms) + 1):
        ok = True
        covered = 0
        for j, form in enumerate(forms):
            word = name.words[start + j]
            last = j == len(forms) - 1
            if (
                word.startswith(form)
                if last
                else (word == form or form.startswith(_word_stem(word)))
            ):
                covered += min(len(form), len(word))
            else:
                ok = False
                break
        if ok:
            total = sum(len(w) for w in name.words)
            score = 0.5 + 0.5 * covered / total
            if start == 0:
                score += 0.2
            if name.official:
                score += 0.05
            return score
    return 0.0


def merge_hyphen_suffixes(tokens: list[Token]) -> list[Token]:
    """Rejoin a Kazakh case ending written after a hyphen to its word: "АҚШ-қа" → "АҚШқа"."""
    out: list[Token] = []
    for tok in tokens:
        if tok.hyphen and out and _hyphen_ending(tok) in HYPHEN_SUFFIXES:
            prev = out[-1]
            raw = prev.raw + tok.raw
            out[-1] = Token(
                raw,
                key(raw),
                prev.latin + tok.latin if prev.latin else "",
                prev.hyphen,
                raw.lower(),
                prev.cyrillic or tok.cyrillic,
            )
        else:
            out.append(tok)
    return out


def _hyphen_ending(tok: Token) -> str:
    return fold(latin_to_cyrillic(tok.lower) if tok.latin else tok.lower)


def _country_names(iso: str, country: Country) -> Iterable[tuple[str, str, float, bool]]:
    """(language, name, strength, official) for every way of naming the country."""
    for lang in LANGS:
        name = Locale(lang).territories.get(iso)
        if name:
            yield lang, name, 1.0, True
    yield from ((lang, alias, 1.0, False) for lang, alias in country.aliases.all())
    for mission in country.missions:
        for lang in LANGS:
            yield lang, mission.city.get(lang).split(",")[0], CITY_STRENGTH, False


def pick_country(tokens: Sequence[Token], mentions: list[Mention]) -> str | None:
    """The country the question is about: a destination rather than an origin, then the first."""
    if not mentions:
        return None

    def rank(m: Mention) -> tuple[bool, float, int]:
        start, end, _, strength, *_ = m
        before = tokens[start - 1].lower if start > 0 else ""
        origin = before in _ABLATIVE_WORDS or tokens[end].key.endswith(_ABLATIVE_ENDINGS)
        return (origin, -strength, start)

    return min(mentions, key=rank)[2]
