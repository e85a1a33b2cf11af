"""Is a question an emergency? Cues for a death, an arrest, an accident, violence, a missing
person or being stranded without documents, in Kazakh (any script), Russian and English.

Cues are written in their ordinary spelling and compared by :func:`textnorm.key`, so one
cue covers Kazakh in Kazakh letters, without them and in Latin («қайтыс», «kaitys»,
«qaitys»), and the common Russian misspellings that keys collapse. A cue word ending in
``*`` matches any word whose key starts with its key (endings do not matter); a cue of
several words matches them in order with at most :data:`GAP` other words between them.

Decisions (where a question could be read both ways):

* A death is a death, however it is asked: "how do I register a death abroad" leads with
  ``death-abroad`` (it explains the registration too), not with civil registration.
* History is not an emergency: a death cue in a message that names a year before
  :data:`RECENT_YEAR` or a history word (khan, poet, war, century...) and no relative or
  friend is left alone ("Abai died in 1904", «Абылай хан қашан қайтыс болды»). "My
  grandfather died in 1991" names a relative and still leads with death abroad.
* "Death penalty" and mortality are not a death of anyone.
* "Missing" / «пропал» / «жоғалып кетті» is a missing person only when the message names a
  person or names no thing (passport, bag, phone...): "my passport went missing" is a lost
  passport, not an emergency. «ұрлап кетті» is a kidnapping only under the same rule.
* Losing a passport is an emergency only with distress beside it (robbed, a flight soon,
  no money, nowhere to stay, stuck): "lost my passport, how do I get a new one" is not.

Pure Python, no Telegram types; the analyzer calls :func:`assess` once per question.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.shared.textnorm import Token, key, tokenize

DEATH = "death"
ARREST = "arrest"
ACCIDENT = "accident"
VIOLENCE = "violence"
MISSING = "missing"
STRANDED = "stranded"
DISASTER = "disaster"  # an earthquake, a flood, an attack, an evacuation
CATEGORIES = (DEATH, ARREST, ACCIDENT, VIOLENCE, MISSING, STRANDED, DISASTER)

DEATH_TOPIC = "death-abroad"
EMERGENCY_TOPIC = "emergency-help"

GAP = 2  # other words allowed between the words of one cue
RECENT_YEAR = 2016  # a year before this one is history, not news
_HEAD = 3  # cues are looked up by the first letters of their first word's key
_YEAR_RE = re.compile(r"(?<!\d)(1[0-9]{3}|20[0-9]{2})(?!\d)")

# Category -> cues, each "word word*" in any language. Kazakh cues are written in Kazakh
# letters; their keys also match the same words typed without them or in Latin.
_CUES: dict[str, tuple[str, ...]] = {
    DEATH: (
        # kk
        "қайтыс*", "қаза тап*", "қаза бол*", "өлді", "өліп*", "өлген*", "өлім", "өлімі*",
        "мәйіт*", "жерлеу*", "көз жұмды",
        # ru
        "умер", "умерла", "умерли", "умерло", "умершего", "умершей", "умерший*", "скончал*",
        "погиб*", "смерть", "смерти", "смертью", "гибел*", "тело покойн*", "покойн*",
        "похорон*", "репатриац* тел*", "груз 200",
        # en
        "died", "dead", "death", "deaths", "passed away", "pass away", "deceased", "killed",
        "dying", "funeral*", "body home", "repatriat* body", "repatriat* remains",
    ),
    ARREST: (
        "ұстап ал*", "ұстады", "ұстап кет*", "ұсталды", "ұсталып*", "қамауға*", "қамалды",
        "қамап*", "түрме*", "тұтқын*", "полиция алып кет*", "полиция әкет*", "тергеу изолятор*",
        "задержал*", "задержан*", "арестова*", "арест", "ареста", "аресте", "под арест*",
        "полиция забрал*", "забрали в полиц*", "забрал* полиц*", "тюрьм*", "сизо",
        "в участ*", "посадили в тюрьм*",
        "arrested", "arrest", "detained", "detention", "in custody", "custody", "jail*",
        "prison*", "police took", "taken by police", "locked up",
    ),
    ACCIDENT: (
        "апат*", "жарақат*", "аурухана*", "жараланды", "жаралан*", "реанимац*",
        "машина қағып*", "қағып кет*", "соғып кет*", "суға батып*", "ауырып қал*",
        "авари*", "дтп", "больниц*", "госпитал*", "травм*", "ранен", "ранена", "ранены",
        "перелом*", "сбила машина", "сбил* машин*", "в коме", "утонул*", "покалеч*",
        "пострадал*", "скорая", "скорую", "инсульт", "инфаркт",
        "accident*", "crash*", "injur*", "hospital*", "wounded", "hit by", "coma",
        "drowned", "drowning", "ambulance", "heart attack", "had a stroke", "fell ill",
        "broke his leg", "broke her leg", "broke my leg",
    ),
    VIOLENCE: (
        "ұрып*", "соққы*", "зорла*", "зорлық*", "шабуыл*", "қорқытып*", "ұрып-соғып*",
        "избил*", "избива*", "избит*", "изнасил*", "похитил*", "похищ*", "насили*",
        "напал*", "нападени*", "побои", "угрожа*", "домашн* насил*",
        "beaten", "beat me", "beat up", "beats me", "assault*", "attacked", "stabbed",
        "raped", "rape", "kidnap*", "abduct*", "domestic violence", "violence", "abuse*",
        "hits me", "threaten*",
    ),
    MISSING: (
        "хабарсыз*", "байланысқа шық*", "байланыс жоқ", "телефон* алмай*", "хабар жоқ",
        "не выходит на связ*", "не выходят на связ*", "выходит на связ*", "нет связи",
        "выходил* на связ*", "телефон* выключ*", "phone* switched off",
        "без вест*", "не отвечает на звон*", "пропал без вест*",
        "lost contact", "no contact", "can't reach", "cant reach", "cannot reach",
        "haven't heard from", "not answering",
    ),
    STRANDED: (
        "тонап*", "тонады", "тоналд*", "ограбил*", "ограбл*", "обокрал*",
        "robbed", "mugged", "robbery", "mugging", "stranded", "қамалып қал*",
    ),
    DISASTER: (
        "жер сілкін*", "эвакуац*", "су тасқын*", "лаңкес*",
        "землетрясен*", "эвакуир*", "наводнен*", "цунами", "теракт*",
        "earthquake*", "evacuat*", "flood*", "tsunami", "terror* attack*", "bombing",
    ),
}

# Missing or taken: a missing person or a kidnapping unless only a thing is named.
_TAKEN = (
    "жоғалып кет*", "жоғалды", "жоғалып*", "ұрлап*", "із-түзсіз*",
    "пропал*", "пропад*", "исчез*", "потерялс*", "похищен*",
    "missing", "disappeared", "vanished", "went missing",
)
_THINGS = (
    "паспорт*", "документ*", "төлқұжат*", "құжат*", "passport*", "document*", "багаж*",
    "сумк*", "чемодан*", "кошел*", "телефон*", "phone*", "wallet*", "bag", "bags", "luggage",
    "baggage", "card*", "карт*", "әмиян*", "ақша*", "деньг*", "money", "виза*", "visa*",
    "посылк*", "parcel*", "сөмке*", "жүк*", "права", "licen*", "ноутбук*", "laptop*",
    "посылка", "байланыс*", "связь", "интернет*",
)
_KIN = (
    # kk (possessive endings are in the key prefix)
    "ұлым*", "ұлымыз*", "қызым*", "қызы", "баламыз*", "балам*", "баласы*", "ағам*",
    "ағасы*", "апам*", "әкем*", "әкесі*", "анам*", "анасы*", "інім*", "інісі*", "әпкем*",
    "сіңлім*", "жұбайым*", "күйеуім*", "күйеу*", "әйелім*", "бауырым*", "досым*", "досы*",
    "туысым*", "туыс*", "немерем*", "атам", "атамыз", "әжем*", "жиенім*",
    # ru
    "сын", "сына", "сыну", "сыном", "сынок*", "доч*", "брат*", "сестр*", "мама*", "мамы",
    "маму", "мать", "матери", "отец", "отца", "отцу", "папа*", "муж", "мужа", "мужу",
    "мужем", "жена", "жену", "жены", "ребен*", "ребён*", "дети", "детей", "бабушк*",
    "дедушк*", "друг", "друга", "другу", "подруг*", "родствен*", "племян*", "внук*",
    # en
    "son", "daughter*", "brother*", "sister*", "mother*", "mom", "mum", "father*", "dad",
    "husband*", "wife", "child*", "kid", "kids", "friend*", "relative*", "grandm*",
    "grandf*", "cousin*", "uncle", "aunt", "nephew", "niece", "parent*", "family",
)
_PEOPLE = (
    "адам*", "бала", "баланы", "турист*", "студент*", "человек*", "ребён*", "турист*",
    "студент*", "person", "man", "woman", "boy", "girl", "tourist*", "student*",
    "people", "someone", "somebody", "he", "she", "him", "her", "он", "она", "его", "её",
    "ее", "ол", "оны",
)
_HISTORY = (
    "хан", "хандығы*", "батыр*", "ақын*", "тарих*", "ғасыр*", "соғыс*", "абай*", "абылай*",
    "истори*", "поэт*", "век", "века", "веке", "войн*", "знаменит*", "писател*",
    "histor*", "poet*", "century", "war", "famous", "writer*", "khan", "batyr*",
    "ашаршылық*", "голод*", "famine", "репресс*", "repress*",
)
_NOT_A_DEATH = (
    "death penalty", "смертн* казн*", "өлім жаза*", "смертност*", "mortality",
    "death rate", "өлім-жітім*",
)
_DOCUMENT_LOSS = (
    "паспорт* укра*", "укра* паспорт*", "паспорт* потерял*", "потерял* паспорт*",
    "документ* укра*", "укра* документ*", "потерял* документ*", "документ* потерял*",
    "утер* паспорт*", "паспорт* утер*",
    "төлқұжат* ұрла*", "ұрла* төлқұжат*", "төлқұжат* жоғал*", "құжат* ұрла*",
    "құжат* жоғал*", "паспорт* жоғал*", "паспорт* ұрла*",
    "passport* stolen", "stole* passport*", "lost passport*", "lost my passport*",
    "lost our passport*", "passport* lost", "documents stolen", "stole* documents",
    "lost documents", "lost my documents",
)
_DISTRESS = (
    "рейс*", "вылет*", "самолет*", "улетать", "ұшақ*", "ұшуым*", "flight*", "plane",
    "нет денег", "без денег", "денег нет", "ақша жоқ", "ақшам жоқ", "ақшасыз", "no money",
    "without money", "негде*", "тұратын жер* жоқ", "баратын жер* жоқ", "nowhere",
    "застрял*", "қалып қойд*", "stuck", "homeless", "ночевать",
)

Pattern = tuple[tuple[str, bool], ...]  # (key, whole word must match: False for a prefix)


def _compile(cue: str) -> Pattern:
    words = []
    for word in cue.replace("-", " ").split():
        prefix = word.endswith("*")
        k = key(word.rstrip("*"))
        if k:
            words.append((k, not prefix))
    return tuple(words)


# Labels of the guard groups, beside the categories' own.
_TAKEN_LABEL, _THING, _KIN_LABEL, _PERSON = "taken", "thing", "kin", "person"
_HISTORY_LABEL, _NOT_DEATH = "history", "not-a-death"
_DOC_LOSS, _DISTRESS_LABEL = "document-loss", "distress"


def _index(groups: dict[str, tuple[str, ...]]) -> dict[str, tuple[tuple[str, Pattern], ...]]:
    """Every cue of every group, looked up by the first letters of its first word: one pass
    over a question's words touches only the few cues that could start with each."""
    heads: dict[str, list[tuple[str, Pattern]]] = {}
    for label, cues in groups.items():
        for cue in cues:
            pattern = _compile(cue)
            if pattern:
                heads.setdefault(pattern[0][0][:_HEAD], []).append((label, pattern))
    return {h: tuple(entries) for h, entries in heads.items()}


def _word_ok(k: str, word: tuple[str, bool]) -> bool:
    cue, whole = word
    return k == cue if whole else k.startswith(cue)


def _matches_at(keys: Sequence[str], i: int, pattern: Pattern) -> bool:
    if not _word_ok(keys[i], pattern[0]):
        return False
    at = i
    for word in pattern[1:]:
        for j in range(at + 1, min(len(keys), at + GAP + 2)):
            if _word_ok(keys[j], word):
                at = j
                break
        else:
            return False
    return True


_INDEX = _index({
    **_CUES,
    _TAKEN_LABEL: _TAKEN, _THING: _THINGS, _KIN_LABEL: _KIN, _PERSON: _PEOPLE,
    _HISTORY_LABEL: _HISTORY, _NOT_DEATH: _NOT_A_DEATH, _DOC_LOSS: _DOCUMENT_LOSS,
    _DISTRESS_LABEL: _DISTRESS,
})


def _labels(keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i, k in enumerate(keys):
        for label, pattern in _INDEX.get(k[:_HEAD], ()):
            if label not in found and _matches_at(keys, i, pattern):
                found.add(label)
    return found


def assess(text: str, tokens: Sequence[Token] | None = None) -> frozenset[str]:
    """The kinds of emergency a message describes (:data:`CATEGORIES`); empty when none."""
    if tokens is None:
        tokens = tokenize(text)
    keys = [t.key for t in tokens if t.key]
    if not keys:
        return frozenset()
    labels = _labels(keys)
    found = labels.intersection(CATEGORIES)
    kin = _KIN_LABEL in labels
    if DEATH in found and not kin and (
        labels.intersection((_NOT_DEATH, _HISTORY_LABEL)) or _names_past_year(text)
    ):
        found.discard(DEATH)
    if _TAKEN_LABEL in labels and (kin or _PERSON in labels or _THING not in labels):
        found.add(MISSING)
    if _DOC_LOSS in labels and _DISTRESS_LABEL in labels:
        found.add(STRANDED)
    return frozenset(found)


def _names_past_year(text: str) -> bool:
    return any(int(y) < RECENT_YEAR for y in _YEAR_RE.findall(text))


def urgent_topic(categories: Iterable[str]) -> str | None:
    """The topic an emergency leads with: death abroad for a death, else emergency help."""
    found = set(categories)
    if DEATH in found:
        return DEATH_TOPIC
    return EMERGENCY_TOPIC if found else None


def detect(text: str, tokens: Sequence[Token] | None = None) -> str | None:
    return urgent_topic(assess(text, tokens))
