"""Small talk (greetings, thanks, goodbyes, "are you a bot?") and questions the embassy does
not answer (a forecast, a currency rate, a ticket to book)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.answers.words import STOP_KEYS, key_set, word_set
from bot.shared.textnorm import Token, is_cyrillic, key

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


def out_of_scope(tokens: Sequence[Token]) -> set[int]:
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
    key_set("""
большое огромное вам тебе очень всем друзья бот ботик көп сізге саған сізге достар бот
""")
    | word_set("""
very much so lot lots a you bot dear all guys again help helped helpful answer
""")
    | key_set("помощь помогли помог көмек көмектестіңіз көмектестіңіз жауап ответ")
)



def smalltalk_of(tokens: Sequence[Token]) -> tuple[str | None, bool]:
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
