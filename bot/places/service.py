"""The right mission: which of a country's missions serves the city or region a text names.

Each mission of a country with several missions lists the regions and cities it serves
(``serves`` in the country's file). :class:`PlaceIndex` finds them in a question, in any of
the three languages and with case endings ("в Мюнхене", "Kazan'da", "Мюнхенде"), so the card
can put that mission first; the country follows from the place too. Pure Python, no Telegram.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.answers.content import LANGS, Country, Mission
from bot.shared.textnorm import READ_CHARS, Token, tokenize

VOWELS = frozenset("аеиоуыэюя")
SHORT_NAME = 3
# Case endings as folded keys (ы, і → и; ғ → г; қ → к; double letters single): Russian
# (в Мюнхене, из Москвы, над Казанью) and Kazakh (Мюнхенде, Мәскеуден, Бішкекке, Омбыдағы).
ENDINGS = frozenset({
    "а", "е", "и", "у", "о", "ом", "ем", "ой", "ей", "ою", "ью", "ам", "ах", "ями", "ях",
    "да", "де", "та", "те", "дан", "ден", "тан", "тен", "нан", "нен", "га", "ге", "ка", "ке",
    "на", "не", "нда", "нде", "ни", "ди", "ти", "нин", "дин", "тин", "даги", "деги", "таги",
    "теги", "ндаги", "ндеги", "ган", "ген", "кан", "кен",
})
# Place names that are everyday words too (Kazakh «қазан»: October, a cauldron; «дархан»,
# «талас», «нарын» are names at home as well): written in lowercase they name no place
# unless the text names the country.
GUARDED = frozenset({"казан", "дархан", "талас", "нарын", "риад"})  # «рядом»: nearby


def _keys(tokens: Sequence[Token]) -> tuple[str, ...]:
    return tuple(t.key for t in tokens if t.key)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > SHORT_NAME + 1 and word[-1] in VOWELS else word


def _word_matches(typed: str, name_word: str) -> bool:
    """The typed word is the name, or the name (or its stem) with a Russian or Kazakh case
    ending: «Мюнхене», «Мюнхенде», «Москвы», «Kazan'da»; not any longer word that starts
    like it («мекенжай» is not «Мекке» + ending)."""
    if typed == name_word:
        return True
    if typed.startswith(name_word) and typed[len(name_word):] in ENDINGS:
        return True
    stem = _stem(name_word)
    return stem != name_word and typed.startswith(stem) and typed[len(stem):] in ENDINGS


@dataclass(frozen=True)
class Place:
    iso: str
    mission_id: str
    words: tuple[str, ...]


class PlaceIndex:
    """Every served city and region (and each mission's own city), by its first word."""

    def __init__(self, places: Iterable[Place]) -> None:
        self._by_head: dict[str, list[Place]] = {}
        for place in places:
            self._by_head.setdefault(place.words[0][:2], []).append(place)
        for bucket in self._by_head.values():
            bucket.sort(key=lambda p: -len(p.words))  # "Нижний Новгород" before "Новгород"

    @classmethod
    def build(cls, countries: Mapping[str, Country]) -> PlaceIndex:
        found: dict[tuple[str, tuple[str, ...]], Place] = {}
        for iso, country in countries.items():
            if len(country.missions) < 2:
                continue
            for mission in country.missions:
                for name in _names(mission):
                    words = _keys(tokenize(name))
                    if words:
                        found.setdefault((iso, words), Place(iso, mission.id, words))
        return cls(found.values())

    def find(self, text: str, iso: str | None = None) -> Place | None:
        """The first place named in ``text`` (within country ``iso`` when given)."""
        tokens = [t for t in tokenize(text[:READ_CHARS]) if t.key]
        keys = [t.key for t in tokens]
        for i, typed in enumerate(keys):
            for place in self._by_head.get(typed[:2], ()):
                n = len(place.words)
                if iso and place.iso != iso:
                    continue
                if i + n <= len(keys) and all(
                    _word_matches(keys[i + j], w) for j, w in enumerate(place.words)
                ) and (iso or n > 1 or place.words[0] not in GUARDED
                       or tokens[i].raw[:1].isupper()):
                    return place
        return None


def _names(mission: Mission) -> Iterable[str]:
    for lang in LANGS:
        yield mission.city.get(lang).split(",")[0]
    if mission.serves is not None:
        yield from (name for _, name in mission.serves.cities.all())
        yield from (name for _, name in mission.serves.regions.all())


def ordered(missions: Sequence[Mission], first: str | None) -> list[Mission]:
    """The missions with ``first`` (a mission id) at the top, the rest in file order."""
    return sorted(missions, key=lambda m: m.id != first)


def prompt_names(mission: Mission, lang: str, limit: int = 3) -> list[str]:
    """What a "Where are you?" button shows for a mission: the places it serves."""
    if mission.serves is None:
        return [mission.city.get(lang)]
    names = mission.serves.regions.get(lang) or mission.serves.cities.get(lang)
    return names[:limit]
