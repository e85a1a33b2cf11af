"""Text normalisation shared by the question analyzer.

Every word gets a *key*: a deliberately lossy Cyrillic spelling in which Kazakh letters
are folded to their plain counterparts, Latin spellings are transliterated, and letters
that people confuse when typing without a Kazakh keyboard (ы/і/и/й, е/э, doubled
letters, soft signs) collapse. A Kazakh question typed in Latin letters and a Russian
one thus meet the Cyrillic keywords of the content. Latin words also keep a *latin*
form so that English matches English.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

KK_LETTERS = frozenset("әғқңөұүһі")


def _pairs(spec: str) -> tuple[tuple[str, str], ...]:
    """ "from:to" pairs separated by white space, in order; an empty "to" deletes."""
    return tuple((src, dst) for src, _, dst in (item.partition(":") for item in spec.split()))


def _table(spec: str) -> dict[int, str]:
    return str.maketrans(dict(_pairs(spec)))


_KK_FOLD = _table("ә:а ғ:г қ:к ң:н ө:о ұ:у ү:у һ:х і:и ё:е")
_KEY_FOLD = _table("э:е й:и ы:и ь: ъ: щ:ш ц:тс я:иа ю:иу")
_DOUBLES = re.compile(r"(.)\1+")

_LATIN_PLAIN = _table("""
ä:a á:a à:a â:a ö:o ó:o ô:o ü:u ú:u ū:u û:u ı:i í:i î:i ï:i é:e è:e ê:e ë:e ğ:g ǵ:g ñ:n
ń:n ş:s ç:c ý:y
""")
_LATIN_DIGRAPHS = _pairs(
    "shch:ш sch:ш s':ш c':ч sh:ш ch:ч zh:ж kh:х gh:г ts:тс ya:иа yu:иу ph:ф ck:к"
)
_LATIN_SINGLE = _table("""
a:а ä:а á:а à:а b:б c:к ç:ч d:д e:е é:е è:е f:ф g:г ğ:г ǵ:г h:х i:и ı:и í:и j:ж k:к l:л
m:м n:н ñ:н ń:н o:о ö:о ó:о p:п q:к r:р s:с ş:ш t:т u:у ü:у ú:у ū:у v:в w:у x:кс y:и
ý:и z:з ': ’: `:
""")
_C_SOFT = re.compile(r"c(?=[eiyéí])")
_NG_FINAL = re.compile(r"ng$")

# Latin letters that look like Cyrillic ones, for words typed with a mixed keyboard layout.
_HOMOGLYPHS = _table("a:а e:е o:о p:р c:с x:х y:у k:к m:м t:т b:в h:н i:і u:и")

WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_INITIALISM = re.compile(r"\b((?:[A-Za-z]\.){2,3})(?!\w)")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-zA-Z\u00c0-\u024f]")


def is_cyrillic(word: str) -> bool:
    return bool(_CYRILLIC.search(word))


def is_latin(word: str) -> bool:
    return bool(_LATIN.search(word))


def fold(word: str) -> str:
    """Lowercase Cyrillic with Kazakh letters replaced by their plain counterparts."""
    return word.lower().translate(_KK_FOLD)


_SCHWA_AS_E = str.maketrans("әӘ", "эЭ")


def without_kk_schwa(text: str) -> str:
    """Kazakh typed on a Russian keyboard: ә written as э («Әмірлік» as «Эмирлик»). The other
    Kazakh letters fold into the letters typed for them (ө → о, і → и); ә folds to а, which
    people type too, so the э spelling is the one a key misses."""
    return text.translate(_SCHWA_AS_E)


@lru_cache(maxsize=65536)
def latin_to_cyrillic(word: str) -> str:
    """Transliterate a Kazakh/Russian word written in Latin letters (any common scheme)."""
    w = word.lower()
    w = _C_SOFT.sub("ts", w)
    w = _NG_FINAL.sub("n", w)
    for src, dst in _LATIN_DIGRAPHS:
        w = w.replace(src, dst)
    return w.translate(_LATIN_SINGLE)


def plain_latin(word: str) -> str:
    """Lowercase Latin without diacritics or possessive endings: the form English matches."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    return w.translate(_LATIN_PLAIN).replace("'", "")


@lru_cache(maxsize=131072)
def key(word: str) -> str:
    """The folded Cyrillic key of one word, whatever its script."""
    w = word.lower()
    if is_latin(w):
        w = w.translate(_HOMOGLYPHS) if is_cyrillic(w) else latin_to_cyrillic(w)
    # A soft sign before a vowel makes it iotated, as я and ю are: Анталья, Анталье and
    # Антальи share "антали" as я, ю and е all do after it.
    w = w.translate(_KK_FOLD).replace("ье", "ие").translate(_KEY_FOLD)
    w = "".join(ch for ch in w if "а" <= ch <= "я")
    return _DOUBLES.sub(r"\1", w)

# How much of a message the bot reads and keeps: the rest of a very long message is neither
# analysed nor stored.
READ_CHARS = 1000


class Token(NamedTuple):
    """One word of a text, in the forms the analyzer matches on. Every form is computed once
    here, since the analyzer reads them many times per word; a named tuple because a question
    makes a few dozen of them and they are read far more often than built."""

    raw: str  # as typed
    key: str  # folded Cyrillic key
    latin: str  # plain Latin form, "" for Cyrillic words
    hyphen: bool  # attached to the previous word with a hyphen ("БАӘ-ге")
    lower: str  # raw, lowercased
    cyrillic: bool  # has a Cyrillic letter


def word_token(raw: str, hyphen: bool = False) -> Token:
    """The token of one word; a word with Cyrillic letters has no Latin form. A word of ASCII
    letters (most English and Latin-typed Kazakh) needs no script test."""
    if raw.isascii():
        return Token(raw, key(raw), plain_latin(raw), hyphen, raw.lower(), False)
    cyrillic = is_cyrillic(raw)
    latin = plain_latin(raw) if not cyrillic and is_latin(raw) else ""
    return Token(raw, key(raw), latin, hyphen, raw.lower(), cyrillic)


def _join_initialism(m: re.Match[str]) -> str:
    return m.group(1).replace(".", "")


def tokenize(text: str) -> list[Token]:
    """Split into words; U.S.-style initialisms are joined first so they stay one word."""
    text = unicodedata.normalize("NFC", text)
    if "." in text:
        text = _INITIALISM.sub(_join_initialism, text)
    tokens: list[Token] = []
    for m in WORD_RE.finditer(text):
        start = m.start()
        hyphen = start > 0 and text[start - 1] in "-‐‑–" and bool(tokens)
        tokens.append(word_token(m.group(0), hyphen))
    return tokens


def place_key(name: str) -> str:
    """How two spellings of a place are compared: the words' folded keys."""
    return " ".join(t.key for t in tokenize(name) if t.key)
