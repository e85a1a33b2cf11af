"""The question analyzer: which language, which topic, which country, or small talk.

One :class:`QuestionIndex` is built from the content store at start-up. It holds

* an inverted index of word stems over every topic's keywords, title, summary and body in
  all three languages, with per-topic weights stored impact-ordered in compact arrays, so a
  question touches only the posting lists of its own words (and only their best entries);
* a country matcher over Babel's official names, the content's aliases and mission cities,
  tolerant to Russian and Kazakh case endings and to Latin spellings.

Words are compared by their :mod:`textnorm` keys, so Kazakh typed in Latin or without the
Kazakh letters meets the Cyrillic content. Everything here is pure Python and synchronous.
"""

from __future__ import annotations

import copy
import heapq
import math
import re
import unicodedata
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from babel import Locale

from bot.answers import urgency
from bot.answers.content import LANGS, Country, Topic
from bot.answers.topic_model import OUT_OF_SCOPE, TopicModel
from bot.shared.textnorm import (
    KK_LETTERS,
    WORD_RE,
    Token,
    fold,
    is_cyrillic,
    is_latin,
    key,
    latin_to_cyrillic,
    plain_latin,
    tokenize,
    without_kk_schwa,
)

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
MIN_STEM = 3  # shortest short word another word can extend
MAX_SUFFIX = 6  # longest ending by which a word may extend a short word
MAX_POSTINGS_SCAN = 1500  # best entries read from one posting list at question time
MAX_QUERY_CHARS = 1000  # the rest of a very long message is not read
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
LANG_MODEL_SURE = 0.6  # the language model overrides the detector's votes from this probability

# --- country matching ----------------------------------------------------------------------
CITY_STRENGTH = 0.8
SHORT_NAME = 3  # names this short match only whole (plus a case ending)
MIN_COUNTRY_STEM = 4

DEFAULT_LANG = "en"


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


def _keys(block: str) -> frozenset[str]:
    return frozenset(key(w) for w in block.split())


# Case endings after a country name, in key form (Russian, then Kazakh).
_RU_ENDINGS = _words("а у е и о ом ем ои еи ам ами ах ов ев иу иа ие ии иеи ием иам иах иами ую")
# Adjective endings after an adjective's stem (американск+ого, турецк+ая) and after a name
# (китай+ский, египет+ского).
_RU_ADJ = _words("ии ого ому им их ими ое ие иу аиа ои")
_RU_ADJ_AFTER_NAME = frozenset("ск" + e for e in _RU_ADJ)
_KK_CASES = _words("""
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

_TAG = re.compile(r"<[^>]+>")
_HOME_KEYS = ("казах", "казак")
_HOME_LATIN = ("kazakh", "qazaq", "kazak")


_CITIZEN_BEFORE = ("граждан", "подданн")  # гражданам Казахстана
_CITIZEN_AFTER = ("азамат",)  # Қазақстан азаматтарына
_CITIZEN_LATIN = ("citizen", "passport", "national", "holder")  # Kazakh passport holder
_CITIZEN_WORDS = ("казахстантс", "казакстандик")  # казахстанцам, қазақстандық


def _names_home(tok: Token) -> bool:
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


def _is_citizenship(tokens: Sequence[Token], start: int, end: int) -> bool:
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


def _place_focus(tokens: Sequence[Token], mentions: list[Mention]) -> str:
    """ "abroad" when the question names a foreign country as a place and not Kazakhstan,
    "home" for the reverse, "" otherwise."""
    foreign = any(not (m.demonym or _is_citizenship(tokens, m.start, m.end)) for m in mentions)
    home = any(_names_home(t) and not _is_citizenship(tokens, i, i) for i, t in enumerate(tokens))
    if foreign != home:
        return "abroad" if foreign else "home"
    return ""


# Words that carry no topic. Kazakh and Russian in key form, English plain.
STOP_KEYS = _keys("""
как что где когда куда откуда почему зачем сколько какие какой какая каком каких нужно нужна
нужен нужны надо можно ли не ни в во на из с со к ко по для о об обо у от до за при я мне меня
мой моя мои мое мы нам нас наш наша вы вам вас ваш ваша он она они оно его ее их это этот эта
эти ты тебя тебе твой есть был была было быть если или и а но чтобы же бы то так уже еще все
всё пожалуйста там тут здесь хочу хотел хотела могу может мочь подскажите скажите помогите
делать сделать который которая которые свой своя свои себя ещё очень просто также тоже какое
чем кто кого без через после перед между под над около кроме среди сейчас теперь ли будет қалай
қандай қанша қашан қайда қайдан неге неше не кім керек қажет үшін бойынша туралы және мен бар
жоқ ма ме ба бе па пе бұл осы сол сіз сен біз олар менің сізге маған да де та те ғой ғана тек
еді ма екен болады бола болса қай айтыңызшы көмектесіңізші сіздер өз өзім ал әлде немесе бірақ
енді қазір тағы бару баруға барамын барсам барамыз барып алу алуға аламын алсам аламыз алынады
алып беру береді жасау жасауға келу келеді кету қалу істеу істеймін болу болуы болған
""") | _words("""
the a an is are am was were be been do does did can could i my me mine you your we our us to of
in on at for from with and or how what where when why which who whom need needs needed want
would should please get got have has had it its this that these those there be will shall may
might about any if so just must some much many tell let know also very i'm im it's ive i've
""")

_SMALLTALK = {
    "greeting": """привет, здравствуйте, здравствуй, приветствую, салам, сәлем, салем, сәлеметсіз,
        сәлеметсіз бе, сәлеметсіздер, ассалаумағалейкум, ассаламуағалейкум, армысыз, хай, hi,
        hello, hey, hiya, greetings, salam, salem, hallo, good morning, good afternoon,
        good evening, добрый день, добрый вечер, доброе утро, доброго дня, қайырлы таң,
        қайырлы кеш, қайырлы күн, қалайсың, қалайсыз, қалайсыздар, как дела, как ты, как вы,
        how are you, how r u, qalaisyn, qalaisyz, kalaisyn, kalaysyn, kalaisiz""",
    "thanks": """спасибо, спс, благодарю, рахмет, рақмет, рахмат, алғыс, thanks, thank you,
        thx, ty, cheers, көп рахмет, большое спасибо""",
    "bye": """пока, до свидания, прощайте, всего доброго, көріскенше, сау бол, сау болыңыз, қош,
        қош бол, bye, goodbye, farewell, see you""",
    "identity": """who are you, what are you, are you a bot, are you human, are you a robot,
        are you real, real person, what can you do, кто ты, кто вы, ты бот, вы бот, бот,
        что ты умеешь, что вы умеете, что ты можешь, живой человек, сен кімсің, сіз кімсіз,
        сен ботсың ба, не істей аласың, bot, robot, робот""",
    "ack": """ок, окей, хорошо, понятно, ясно, ладно, отлично, супер, жақсы, түсіндім,
        түсінікті, жарайды, болды, мақұл, иә, ok, okay, okey, fine, alright, great, cool,
        understood, yes, nice, got it, all right""",
}


# Beginnings of words that mark a question the embassy does not answer (a forecast, a
# currency rate, a ticket or table to book). Such words add nothing to any topic, and a topic
# then needs a strong match of its own (OUT_OF_SCOPE_SCORE). Cyrillic in key form.
OUT_OF_SCOPE_LATIN = (
    "weather", "forecast", "temperature", "exchange rate", "dollar", "ticket", "book me",
    "book flight", "restaurant", "cafe", "recipe", "food", "recommend", "football", "bitcoin",
    "crypto",
)  # fmt: skip
OUT_OF_SCOPE_KEYS = (
    "погод", "прогноз", "температур", "курс долл", "доллар", "билет", "авиабилет", "заброн",
    "ресторан", "кафе", "рецепт", "футбол", "биткоин", "криптов", "ауа раи", "ауараи",
    "тенге курс", "курс тенге", "курс валют", "валюта курс", "мейрамхана",
)  # fmt: skip
_OOS_WORDS_LATIN = tuple(w for w in OUT_OF_SCOPE_LATIN if " " not in w)
_OOS_PAIRS_LATIN = tuple(tuple(w.split()) for w in OUT_OF_SCOPE_LATIN if " " in w)
_OOS_WORDS_KEYS = tuple(w for w in OUT_OF_SCOPE_KEYS if " " not in w)
_OOS_PAIRS_KEYS = tuple(tuple(key(x) for x in w.split()) for w in OUT_OF_SCOPE_KEYS if " " in w)
# First words of the pairs: only a word that starts one needs its pairs checked.
_OOS_PAIR_HEADS_LATIN = frozenset(a for a, _ in _OOS_PAIRS_LATIN)
_OOS_PAIR_HEADS_KEYS = tuple(a for a, _ in _OOS_PAIRS_KEYS)


def _out_of_scope(tokens: Sequence[Token]) -> set[int]:
    """Positions of the words that mark an out-of-scope question (see OUT_OF_SCOPE_*)."""
    found: set[int] = set()
    for i, tok in enumerate(tokens):
        if (tok.latin and tok.latin.startswith(_OOS_WORDS_LATIN)) or (
            not tok.latin and tok.key.startswith(_OOS_WORDS_KEYS)
        ):
            found.add(i)
        if i + 1 < len(tokens) and (
            tok.latin in _OOS_PAIR_HEADS_LATIN or tok.key.startswith(_OOS_PAIR_HEADS_KEYS)
        ):
            nxt = tokens[i + 1]
            if any(tok.latin == a and nxt.latin.startswith(b) for a, b in _OOS_PAIRS_LATIN) or any(
                tok.key.startswith(a) and nxt.key.startswith(b) for a, b in _OOS_PAIRS_KEYS
            ):
                found.update((i, i + 1))
    return found


def _form(word: str) -> str:
    return key(word) if is_cyrillic(word) else word


def _smalltalk_tables() -> tuple[dict[str, str], tuple[tuple[tuple[str, ...], str], ...]]:
    words: dict[str, str] = {}
    phrases: list[tuple[tuple[str, ...], str]] = []
    for kind, entries in _SMALLTALK.items():
        for entry in entries.split(","):
            parts = tuple(_form(w) for w in entry.split())
            if len(parts) == 1:
                words[parts[0]] = kind
            elif parts:
                phrases.append((parts, kind))
    phrases.sort(key=lambda p: -len(p[0]))
    return words, tuple(phrases)


SMALLTALK_WORDS, SMALLTALK_PHRASES = _smalltalk_tables()
_SMALLTALK_STARTS = frozenset(phrase[0] for phrase, _ in SMALLTALK_PHRASES)
# After these, extra words are politeness ("thanks, you helped a lot"), not a new question.
CLOSING_SMALLTALK = frozenset(("thanks", "bye", "ack"))

# Words that may stand beside small talk without making it a question.
SMALLTALK_FILLER = (
    _keys("""
большое огромное вам тебе очень всем друзья бот ботик көп сізге саған сізге достар бот
""")
    | _words("""
very much so lot lots a you bot dear all guys again help helped helpful answer
""")
    | _keys("помощь помогли помог көмек көмектестіңіз көмектестіңіз жауап ответ")
)


# --- language detection --------------------------------------------------------------------
KK_WORDS = _keys("""
қалай қандай қанша қашан қайда қайдан неге неше керек қажет үшін бойынша туралы және мен бар
жоқ ма ме ба бе па пе бұл осы сол сіз сен біз олар менің сізге маған ғой ғана тек еді екен
болады бола болса қай алу беру жасау рахмет сәлем сәлеметсіз жақсы түсіндім елшілік елшілікке
шетел шетелде төлқұжат жоғалды жоғалттым алдым алуға керекпе бола ма кетті ұрлап қайтыс азамат
азаматтық виза визасы визасыз паспортым паспортымды құжат құжаттар жоқ иә жоқпын емес мүмкін
келу кету бару барсам барам тұрамын тұрады істеу істеймін не
""")
RU_WORDS = (
    _keys("""
как что где когда куда откуда почему зачем сколько какие какой какая нужно нужна нужен надо
можно ли в во на из с со к по для о об у от до за при я мне меня мой моя мы вы вам вас он она
они это есть был была если или и а но чтобы же бы уже еще все пожалуйста здравствуйте привет
спасибо делать сделать потерял потеряла паспорт украли получить оформить продлить посольство
консульство документы справка хочу могу про года году расскажите расскажи объясните такое
""")
    - KK_WORDS
)
EN_WORDS = _words("""
the a an is are am was were be been do does did can could i my me you your we our to of in on
at for from with and or how what where when why which who need want would should please get
have has it this that there will about any if lost stolen passport visa embassy help
""")
KK_LATIN_WORDS = _words("""
qalai qalay kalai kalay kerek qaida qaida kaida kayda qaidan kaidan neshe nege qandai kandai
qandai qansha kansha qashan kashan ushin boiynsha boyynsha turaly jane zhane men bar joq jok
zhok ma me ba be pa pe bul osy sol siz sen biz olar menin menіñ rahmet rakhmet salem salemetsiz
jaqsy zhaksy jaksy tusіndim tusindim elshilik elshilikke shetel shetelde shetelge joghaldy
zhogaldy jogaldy zhogaldy joǵaldy qoldanu alu beru alyp aldym boldy bola bolady kerekpe
tolqujat tolkuzhat tolquzhat qujat kuzhat qujattar azamat azamattyq qaitys degen ne edi
qazir kazir qaisy kaisy bolady zhane jäne ush uchun turaly
""")
RU_LATIN_WORDS = _words("""
kak chto gde kogda kuda pochemu skolko nuzhno nuzhna nuzhen nado mozhno li dlya menya mne ya vy
poteryal poteryala ukrali pasporta posolstvo konsulstvo privet spasibo zdravstvuyte
""")

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
    return _detect(tokenize(text[:MAX_QUERY_CHARS]))


def _detect(tokens: Sequence[Token], vocab: _Vocabulary | None = None) -> str:
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
        return "kk" if kk_c + kk_l > ru_c + ru_l else "ru"
    scores = {"en": en_l, "kk": kk_l + kk_c, "ru": ru_l + ru_c}
    best = max(scores, key=lambda lang: (scores[lang], lang == "en"))
    return best


@dataclass
class _Vocabulary:
    """Word forms seen in only one language of the content: evidence for detection."""

    kk: frozenset[str] = frozenset()
    ru: frozenset[str] = frozenset()
    en: frozenset[str] = frozenset()

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
# right (президент is not презид+ент). Cutting every word to its first letters is consistent
# across both, and across the two languages' shared words (консулдық/консульство).
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


# --- the index -----------------------------------------------------------------------------
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


@dataclass(frozen=True)
class _Name:
    iso: str
    words: tuple[str, ...]  # keys, or plain Latin words
    strength: float
    official: bool


@dataclass
class _CountryMatcher:
    """Finds countries named in a text, by official name, alias or mission city."""

    single: dict[str, list[tuple[str, float, bool]]] = field(default_factory=dict)
    single_latin: dict[str, list[tuple[str, float, bool]]] = field(default_factory=dict)
    single_latin_stems: dict[str, list[tuple[str, float, bool]]] = field(default_factory=dict)
    name_langs: dict[str, set[str]] = field(default_factory=dict)
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

    @classmethod
    def build(cls, countries: Mapping[str, Country]) -> _CountryMatcher:
        self = cls()
        guarded: set[str] = set()
        for iso, country in countries.items():
            for lang, text, strength, official in _country_names(iso, country):
                for spelling in dict.fromkeys((text, without_kk_schwa(text))):
                    self._add(iso, spelling, strength, official, guarded)
                self.name_langs.setdefault(_surface(text), set()).add(lang)
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

    def _add(
        self, iso: str, text: str, strength: float, official: bool, guarded: set[str]
    ) -> None:
        tokens = _merge_hyphen_suffixes(tokenize(text))
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

    def find(self, tokens: Sequence[Token]) -> list[Mention]:
        """Country mentions as (first token, last token, ISO, strength), in text order."""
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
        found.sort()
        return found

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
        tokens = _merge_hyphen_suffixes(tokenize(text))
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
_LATIN_DEMONYMS = _words("""
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


def _merge_hyphen_suffixes(tokens: list[Token]) -> list[Token]:
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


def _plain(html: str) -> str:
    return _TAG.sub(" ", html)


_SPECIAL_CHARS = frozenset("-‐‑–.")
_TEXT_FIELDS = {"title": TITLE_WEIGHT, "summary": SUMMARY_WEIGHT, "body": BODY_WEIGHT}


class _Builder:
    """Turns topics into postings. Caches words, texts and keyword phrases, since a large
    store repeats them, and appends postings to compact arrays to keep the peak small."""

    def __init__(self, countries: _CountryMatcher) -> None:
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
            if _is_stop(tok):
                elements.append(_stop_element(tok))
            else:
                elements.extend(self._word(tok.raw, lang == "en")[:1])
            self._see(tok.raw, lang)
        # "visa for Kazakhstan citizens" is about where they go, not about Kazakhstan
        home = any(
            _names_home(t) and not _is_citizenship(tokens, j, j) for j, t in enumerate(tokens)
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
            return _merge_hyphen_suffixes(tokenize(phrase))
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
            m = self.countries
            cached = bool(
                m._multi_candidates(tok)
                or m._single([tok], 0)
                or tok.latin in m.guarded_latin
                or tok.hyphen
            )
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


class QuestionIndex:
    """Everything needed to analyze a question, built once from the content store."""

    def __init__(self) -> None:
        self._slugs: list[str] = []
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
        self._countries = _CountryMatcher()
        self._vocab = _Vocabulary()
        self._model: TopicModel | None = None
        self._model_docs: tuple[int, ...] = ()  # per model class, its topic (-1: none)
        self.lang_model: TopicModel | None = None  # classes: the languages

    @property
    def model(self) -> TopicModel | None:
        """The topic model fused with the index's scores (None: the index alone)."""
        return self._model

    @model.setter
    def model(self, model: TopicModel | None) -> None:
        docs = {slug: d for d, slug in enumerate(self._slugs)}
        self._model_docs = tuple(docs.get(c, -1) for c in model.classes) if model else ()
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
        self._countries = _CountryMatcher.build(countries)
        builder = _Builder(self._countries)
        for doc, (slug, topic) in enumerate(topics.items()):
            self._slugs.append(slug)
            builder.add_topic(doc, topic)
        builder.drop_caches()
        self._cyr, self._lat = builder.cyr, builder.lat
        self._cyr.finish()
        self._lat.finish()
        self._finish_postings(builder.post_ids, builder.post_w)
        self._finish_phrases(builder)
        self._home = builder.home
        seen = builder.seen_words
        self._vocab = _Vocabulary(
            frozenset(seen["kk"] - seen["ru"]),
            frozenset(seen["ru"] - seen["kk"]),
            frozenset(seen["en"]),
        )
        return self

    def _finish_postings(self, ids: list[array[int]], weights: list[array[float]]) -> None:
        """Idf per term, and each posting list ordered by weight, best first."""
        n_docs = max(1, len(self._slugs))
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
    def analyze(self, text: str, lang: str | None = None) -> Analysis:
        tokens = _merge_hyphen_suffixes(tokenize((text or "")[:MAX_QUERY_CHARS]))
        mentions = self._countries.find(tokens)
        named = {j for a, b, *_ in mentions for j in range(a, b + 1)}
        if lang not in LANGS:
            lang = self._countries.language_of(tokens, mentions) or self._language(tokens, named)
        country = _pick_country(tokens, mentions)
        offscope = _out_of_scope(tokens)
        content = [t for j, t in enumerate(tokens) if j not in named and j not in offscope]
        ranked, floor, guess = self._topic_ranking(tokens, named, offscope, lang, mentions)
        topic, confidence, alternatives = _decide(ranked, floor)
        if guess:
            confidence = min(confidence, UNSURE_CONFIDENCE - 0.01)
        smalltalk, pure = _smalltalk(content) if not mentions else (None, False)
        closing = smalltalk in CLOSING_SMALLTALK and confidence < UNSURE_CONFIDENCE
        if smalltalk and (pure or topic is None or closing):
            topic, confidence, alternatives = None, 0.0, ()
        else:
            smalltalk = None
        names = tuple(self._slugs[d] for d in alternatives)
        return Analysis(
            lang,
            self._slugs[topic] if topic is not None else None,
            country,
            round(confidence, 3),
            names,
            smalltalk,
            urgency.detect((text or "")[:MAX_QUERY_CHARS], tokens),
        )

    def language_words(self, text: str) -> list[Token]:
        """The words the language model reads, in training as in answering."""
        return _merge_hyphen_suffixes(tokenize((text or "")[:MAX_QUERY_CHARS]))

    def model_words(self, text: str) -> list[Token]:
        """The words the topic model reads, in training as in answering: the question's words
        but the country names (a country says nothing about the topic)."""
        tokens = _merge_hyphen_suffixes(tokenize((text or "")[:MAX_QUERY_CHARS]))
        named = {j for a, b, *_ in self._countries.find(tokens) for j in range(a, b + 1)}
        return [t for j, t in enumerate(tokens) if j not in named]

    def find_countries(self, text: str, limit: int = 8) -> list[str]:
        return self._countries.complete((text or "")[:200], limit)

    def _query_terms(
        self, tokens: Sequence[Token], lang: str
    ) -> tuple[dict[int, float], set[int | str]]:
        """The terms of the content words with their query weights, and every phrase element
        present (term ids and function words)."""
        terms: dict[int, float] = {}
        present: set[int | str] = set()
        for tok in tokens:
            if _is_stop(tok):
                present.add(_stop_element(tok))
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

    def _language(self, tokens: Sequence[Token], named: set[int]) -> str:
        """The language by the detector's votes, unless the language model (trained on the
        examples, which are written in each language as people write it: Russian with Kazakh
        words, Kazakh without the Kazakh letters) is sure of another."""
        voted = _detect(tokens, self._vocab)
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
        scores = self._scores(content, lang, _place_focus(tokens, mentions), bool(mentions))
        floor = OUT_OF_SCOPE_SCORE if offscope else NOTHING_FITS_SCORE
        model = self._model
        if model is None or offscope:  # a forecast, a rate: the index alone, as before
            return _best(scores), floor, False
        words = [t for j, t in enumerate(tokens) if j not in named]
        topical = [t for t in content if not _is_stop(t)]
        if not topical:  # "and Mongolia?": no topic words
            return _best(scores), floor, False
        by_index = _best(scores)
        if (len(topical) == 1 and len(by_index) > 1
                and by_index[1][0] > (1 - UNSURE_MARGIN) * by_index[0][0]):
            return by_index, floor, True  # offered with its alternatives, as the index has them
        none = self._fuse(scores, model.probabilities(words))
        # "none of these" competes with the topics: a topic must score above it
        floor = max(floor, OUT_OF_SCOPE_WEIGHT * none)
        return _best(scores), floor, False

    def _fuse(self, scores: dict[int, float], probabilities: dict[str, float]) -> float:
        """Add the topic model's probabilities to the index's scores, in place; the model's
        probability that the question is out of scope."""
        docs = self._model_docs
        for c, p in enumerate(probabilities.values()):
            d = docs[c]
            if d >= 0 and p >= MODEL_MIN_PROBABILITY:
                scores[d] = scores.get(d, 0.0) * INDEX_SHARE + MODEL_WEIGHT * p
        return probabilities.get(OUT_OF_SCOPE, 0.0)

    def _rank(
        self, tokens: Sequence[Token], lang: str, focus: str, country: bool = False
    ) -> list[tuple[float, int]]:
        return _best(self._scores(tokens, lang, focus, country))

    def _scores(
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


def _best(scores: dict[int, float]) -> list[tuple[float, int]]:
    """The best (score, topic) pairs, enough for the pick and its alternatives."""
    pairs = zip(scores.values(), scores.keys(), strict=True)
    if len(scores) <= _SORT_ALL:
        return sorted(pairs, reverse=True)[: ALTERNATIVES + 1]
    return heapq.nlargest(ALTERNATIVES + 1, pairs)


# Kazakh question particles, often written glued to the word before: «керекпе», «боладыма».
_QUESTION_PARTICLES = ("ма", "ме", "ба", "бе", "па", "пе")
_GLUED_STEM = 3  # shortest function word a particle is taken off


def _is_stop(tok: Token) -> bool:
    k = tok.key
    return (
        k in STOP_KEYS
        or tok.latin in STOP_KEYS
        or tok.lower in STOP_KEYS
        or (
            k.endswith(_QUESTION_PARTICLES)
            and len(k) - 2 >= _GLUED_STEM
            and k[:-2] in STOP_KEYS
        )
    )


def _stop_element(tok: Token) -> str:
    return tok.latin or tok.key


def _decide(
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


def _pick_country(tokens: Sequence[Token], mentions: list[Mention]) -> str | None:
    """The country the question is about: a destination rather than an origin, then the first."""
    if not mentions:
        return None

    def rank(m: Mention) -> tuple[bool, float, int]:
        start, end, _, strength, _ = m
        before = tokens[start - 1].lower if start > 0 else ""
        origin = before in _ABLATIVE_WORDS or tokens[end].key.endswith(_ABLATIVE_ENDINGS)
        return (origin, -strength, start)

    return min(mentions, key=rank)[2]


def _smalltalk(tokens: Sequence[Token]) -> tuple[str | None, bool]:
    """The kind of small talk in a message, and whether the message is nothing else."""
    forms = [t.latin or t.key for t in tokens]
    starts = _SMALLTALK_STARTS.intersection(forms)
    if not starts and SMALLTALK_WORDS.keys().isdisjoint(forms):
        return None, False
    used: set[int] = set()
    kinds: list[str] = []
    for phrase, kind in SMALLTALK_PHRASES:
        if phrase[0] not in starts:
            continue
        size = len(phrase)
        for i in range(len(forms) - size + 1):
            span = range(i, i + size)
            if tuple(forms[i : i + size]) == phrase and not used.intersection(span):
                used.update(span)
                kinds.append(kind)
    for i, form in enumerate(forms):
        word_kind = SMALLTALK_WORDS.get(form)
        if word_kind and i not in used:
            used.add(i)
            kinds.append(word_kind)
    if not kinds:
        return None, False
    rest = [f for i, f in enumerate(forms) if i not in used]
    pure = all(f in SMALLTALK_FILLER or f in STOP_KEYS for f in rest)
    kind = next(k for k in ("identity", "thanks", "bye", "greeting", "ack") if k in kinds)
    return kind, pure
