"""Which language a question is written in: Kazakh, Russian or English.

Votes by word lists, letters and endings in each script (Kazakh is typed in Cyrillic, without
the Kazakh letters and in Latin), plus the words only one language of the content uses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.answers.words import key_set, word_set
from bot.shared.textnorm import KK_LETTERS, READ_CHARS, Token, fold, tokenize

DEFAULT_LANG = "en"
# A question of this many words at most, whose votes come out this close, is read in the
# language the person reads the bot in, when the caller knows it.
READER_WORDS = 4
READER_MARGIN = 1.0

KK_WORDS = key_set("""
қалай қандай қанша қашан қайда қайдан неге неше керек қажет үшін бойынша туралы және мен бар
жоқ ма ме ба бе па пе бұл осы сол сіз сен біз олар менің сізге маған ғой ғана тек еді екен
болады бола болса қай алу беру жасау рахмет сәлем сәлеметсіз жақсы түсіндім елшілік елшілікке
шетел шетелде төлқұжат жоғалды жоғалттым алдым алуға керекпе бола ма кетті ұрлап қайтыс азамат
азаматтық виза визасы визасыз паспортым паспортымды құжат құжаттар жоқ иә жоқпын емес мүмкін
келу кету бару барсам барам тұрамын тұрады істеу істеймін не
""")
RU_WORDS = (
    key_set("""
как что где когда куда откуда почему зачем сколько какие какой какая нужно нужна нужен надо
можно ли в во на из с со к по для о об у от до за при я мне меня мой моя мы вы вам вас он она
они это есть был была если или и а но чтобы же бы уже еще все пожалуйста здравствуйте привет
спасибо делать сделать потерял потеряла паспорт украли получить оформить продлить посольство
консульство документы справка хочу могу про года году расскажите расскажи объясните такое
""")
    - KK_WORDS
)
EN_WORDS = word_set("""
the a an is are am was were be been do does did can could i my me you your we our to of in on
at for from with and or how what where when why which who need want would should please get
have has it this that there will about any if lost stolen passport visa embassy help
""")
KK_LATIN_WORDS = word_set("""
qalai qalay kalai kalay kerek qaida qaida kaida kayda qaidan kaidan neshe nege qandai kandai
qandai qansha kansha qashan kashan ushin boiynsha boyynsha turaly jane zhane men bar joq jok
zhok ma me ba be pa pe bul osy sol siz sen biz olar menin menіñ rahmet rakhmet salem salemetsiz
jaqsy zhaksy jaksy tusіndim tusindim elshilik elshilikke shetel shetelde shetelge joghaldy
zhogaldy jogaldy zhogaldy joǵaldy qoldanu alu beru alyp aldym boldy bola bolady kerekpe
tolqujat tolkuzhat tolquzhat qujat kuzhat qujattar azamat azamattyq qaitys degen ne edi
qazir kazir qaisy kaisy bolady zhane jäne ush uchun turaly
""")
RU_LATIN_WORDS = word_set("""
kak chto gde kogda kuda pochemu skolko nuzhno nuzhna nuzhen nado mozhno li dlya menya mne ya vy
poteryal poteryala ukrali pasporta posolstvo konsulstvo privet spasibo zdravstvuyte
""")

# Words of the lists above: known words of some language, whatever else they resemble.
KNOWN_WORDS = KK_WORDS | RU_WORDS | EN_WORDS | KK_LATIN_WORDS | RU_LATIN_WORDS

_KK_SUFFIX_RE = re.compile(
    r"(?:дым|дім|тым|тім|ды|ді|ты|ті|мын|мін|пын|пін|бын|бін|сыз|сіз|сың|сің|лар|лер|дар|дер|"
    r"тар|тер|ға|ге|қа|ке|да|де|та|те|дан|ден|тан|тен|нан|нен|ның|нің|дың|дің|тың|тің|ымды|"
    r"імді|ымыз|іміз|уға|уге|ған|ген|қан|кен|ып|іп|йды|йді|лық|лік|дық|дік|тық|тік|шы|ші|"
    r"мыз|міз|ңыз|ңіз|сы|сі|ны|ні|ма|ме|ба|бе|па|пе)$"
)
_RU_SUFFIX_RE = re.compile(
    r"(?:ть|ться|тся|ся|сь|ого|его|ому|ему|ый|ий|ой|ая|яя|ое|ее|ые|ие|ую|юю|ах|ях|ами|ями|"
    r"ов|ев|ешь|ет|ют|ит|ят|ение|ения|ость|ости|ал|ала|али|ил|ила|или|ел|ела|ели|ул|ую|ию|ией|"
    r"ите)$"
)
_KK_LATIN_SUFFIX_RE = re.compile(
    r"(?:dym|dim|tym|tim|dy|di|ty|ti|myn|min|ymdy|imdi|ymyz|imiz|ğa|ge|qa|ke|ga|dan|den|tan|ten|"
    r"nan|nen|nyñ|nің|nyn|dyñ|dyn|tyn|lar|ler|dar|der|tar|ter|ğan|qan|gan|yp|ip|lyq|lik|dyq|"
    r"tyq|syz|siz|uğa|uga|shy|shi)$"
)
_EN_SUFFIX_RE = re.compile(r"(?:ing|tion|ed|ly|ness|ment|ous|ful|able|ship|'s|th)$")
_KK_LATIN_LETTERS = frozenset("äğqñöūüışə")
_RU_ONLY_LETTERS = frozenset("щъэёь")
_KK_LATIN_DIGRAPH_RE = re.compile(r"(?:zh|kh|gh)")
_EN_LETTERS_RE = re.compile(r"(?:th|wh|ee|oo|ou|ea|ck|w)")


def _cyrillic_votes(tokens: Sequence[Token]) -> tuple[float, float]:
    kk = ru = 0.0
    for tok in tokens:
        low = tok.lower.replace("ё", "е")
        if not KK_LETTERS.isdisjoint(low):
            kk += 3.0
            continue
        k = tok.key
        in_kk, in_ru = k in KK_WORDS, k in RU_WORDS
        if in_kk and not in_ru:
            kk += 2.0
        elif in_ru and not in_kk:
            ru += 2.0
        elif not in_kk and not in_ru:
            plain = fold(low)
            if not _RU_ONLY_LETTERS.isdisjoint(low) or low.endswith(("ция", "ции", "цию")):
                ru += 1.0
            elif _RU_SUFFIX_RE.search(plain) and len(plain) > 3:
                ru += 0.6
            if _KK_SUFFIX_RE.search(plain) and len(plain) > 3:
                kk += 0.7
    return kk, ru


def _latin_votes(tokens: Sequence[Token]) -> tuple[float, float, float]:
    kk = en = ru = 0.0
    for tok in tokens:
        low = tok.lower
        if not _KK_LATIN_LETTERS.isdisjoint(low):
            kk += 3.0
            continue
        w = tok.latin
        if w in KK_LATIN_WORDS:
            kk += 2.0
        elif w in EN_WORDS:
            en += 2.0
        elif w in RU_LATIN_WORDS:
            ru += 2.0
        else:
            if "q" in w.replace("qu", "") or _KK_LATIN_DIGRAPH_RE.search(w):
                kk += 1.0
            if _KK_LATIN_SUFFIX_RE.search(w) and len(w) > 4:
                kk += 0.6
            if _EN_SUFFIX_RE.search(w) or _EN_LETTERS_RE.search(w):
                en += 0.7
    return kk, en, ru


def detect_language(text: str) -> str:
    """The language a question is written in: "kk", "ru" or "en"; "en" when there are no words."""
    return detect(tokenize(text[:READ_CHARS]))


def detect(
    tokens: Sequence[Token], vocab: Vocabulary | None = None, reader: str | None = None
) -> str:
    """The language by the votes; for a short question whose votes come out even or nearly
    (no Kazakh-only letters, words valid in either language), the reader's language."""
    cyr = [t for t in tokens if t.cyrillic]
    lat = [t for t in tokens if t.latin]
    if not cyr and not lat:
        return DEFAULT_LANG
    kk_c, ru_c = _cyrillic_votes(cyr)
    kk_l, en_l, ru_l = _latin_votes(lat)
    if vocab is not None:
        kk_v, ru_v, en_v = vocab.votes(tokens)
        kk_c, ru_c, en_l = kk_c + kk_v, ru_c + ru_v, en_l + en_v
    if len(cyr) >= len(lat):
        scores = {"kk": kk_c + kk_l, "ru": ru_c + ru_l}
        voted = "kk" if scores["kk"] > scores["ru"] else "ru"
    else:
        scores = {"en": en_l, "kk": kk_l + kk_c, "ru": ru_l + ru_c}
        voted = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    if (
        reader in scores
        and reader != voted
        and scores[voted] - scores[reader] <= READER_MARGIN
        and _undecided(tokens)
    ):
        return reader
    return voted


def _undecided(tokens: Sequence[Token]) -> bool:
    """Short, and without a letter only Kazakh has: the votes cannot be trusted apart."""
    return len(tokens) <= READER_WORDS and all(
        KK_LETTERS.isdisjoint(t.lower) and _KK_LATIN_LETTERS.isdisjoint(t.lower) for t in tokens
    )


@dataclass
class Vocabulary:
    """Word forms seen in only one language of the content: evidence for detection."""

    kk: frozenset[str] = frozenset()
    ru: frozenset[str] = frozenset()
    en: frozenset[str] = frozenset()
    seen: frozenset[str] = frozenset()  # every word form of the content, in any language

    def votes(self, tokens: Sequence[Token]) -> tuple[float, float, float]:
        kk = ru = en = 0.0
        for tok in tokens:
            if tok.cyrillic:
                if tok.key in self.kk:
                    kk += 1.0
                elif tok.key in self.ru:
                    ru += 1.0
            elif tok.latin:
                if tok.latin in self.en:
                    en += 1.0
                elif tok.key in self.kk and len(tok.key) > 3:
                    kk += 1.0
        return kk, ru, en


# --- stemming ------------------------------------------------------------------------------
# Kazakh chains suffixes and Russian inflects, in ways a suffix list gets wrong as often as
