"""The content store's files: their schema, validation and loading.

Content lives under ``content/`` as YAML, one file per topic (``content/topics/<slug>.yaml``)
and one per country (``content/countries/<iso>.yaml``). Every text a person reads is
given in all of :data:`LANGS`. Validation names the file and the field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.shared import tghtml
from bot.shared.textnorm import place_key, tokenize

LANGS: tuple[str, ...] = ("kk", "ru", "en")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TITLE_LIMIT = 60
SUMMARY_LIMIT = 250
BODY_LIMIT = 3500  # leaves room in one 4096 message for the title and country specifics
NOTE_LIMIT = 600
CHOICE_LIMIT = 40  # a button's label when the bot asks which of two topics is meant


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The last time zone to reach a date (UTC+14): a date written anywhere today is not refused.
_EARLIEST_TOMORROW = timedelta(hours=14)


def _reviewed_date(v: object) -> date:
    """When the ministry last checked a file's facts: a date (2026-11-20), not in the future.
    YAML reads such a date as a date; the store keeps it as its ISO text."""
    day: date | None = None
    if isinstance(v, date) and not isinstance(v, datetime):
        day = v
    elif isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.strip()):
        try:
            day = date.fromisoformat(v.strip())
        except ValueError:
            day = None
    if day is None:
        raise ValueError(f"{v!r} is not a date like 2026-11-20")
    if day > (datetime.now(UTC) + _EARLIEST_TOMORROW).date():
        raise ValueError(f"{day.isoformat()} is in the future")
    return day


def _check_html(value: str, limit: int) -> str:
    try:
        length = tghtml.plain_length(value)
    except tghtml.TelegramHTMLError as exc:
        raise ValueError(f"HTML that Telegram would refuse: {exc}") from exc
    if length > limit:
        raise ValueError(f"{length} characters, the limit is {limit}")
    if not value.strip():
        raise ValueError("empty text")
    return value


class Text(_Strict):
    """One text in each language."""

    kk: str
    ru: str
    en: str

    def get(self, lang: str) -> str:
        return str(getattr(self, lang if lang in LANGS else "en"))


class _LimitedText(Text):
    """A :class:`Text` whose every language is valid Telegram HTML of at most ``limit``
    characters; declared as real subclasses so that type checkers see ``Text``'s methods."""

    limit: ClassVar[int]

    @field_validator("kk", "ru", "en")
    @classmethod
    def _valid(cls, v: str) -> str:
        return _check_html(v, cls.limit)


class TitleText(_LimitedText):
    limit = TITLE_LIMIT


class SummaryText(_LimitedText):
    limit = SUMMARY_LIMIT


class BodyText(_LimitedText):
    limit = BODY_LIMIT


class NoteText(_LimitedText):
    limit = NOTE_LIMIT


class ChoiceText(_LimitedText):
    limit = CHOICE_LIMIT


class Words(_Strict):
    """The words and phrases people use for a thing, per language."""

    kk: list[str] = Field(default_factory=list)
    ru: list[str] = Field(default_factory=list)
    en: list[str] = Field(default_factory=list)

    def get(self, lang: str) -> list[str]:
        return list(getattr(self, lang))

    def all(self) -> Iterable[tuple[str, str]]:
        for lang in LANGS:
            for word in self.get(lang):
                yield lang, word


ALIAS_MAX = 60  # characters of one alias


class Aliases(Words):
    """Other names of a country, per language: short names, demonyms (in lowercase, as
    nationality words are written: «китаец», «қытайлық»; "Chinese" in English), its best-known
    cities. The question analyzer reads each as the country, so each names one country only
    (checked across the files by :func:`load_tree`)."""

    @field_validator("kk", "ru", "en")
    @classmethod
    def _each(cls, v: list[str]) -> list[str]:
        seen: set[str] = set()
        for alias in v:
            if not isinstance(alias, str) or not any(ch.isalpha() for ch in alias):
                raise ValueError(f"{alias!r} is not a name")
            if len(alias) > ALIAS_MAX:
                raise ValueError(f"{alias!r}: {len(alias)} characters, the limit is {ALIAS_MAX}")
            if alias in seen:
                raise ValueError(f"{alias!r} is given twice")
            seen.add(alias)
        return v


EXAMPLE_MIN, EXAMPLE_MAX = 2, 300  # characters of one example question, after strip


def example_key(text: str) -> str:
    """The form in which two example questions count as the same: their words, lowercase,
    without punctuation or spacing (textnorm's tokens). Not the folded keys: the same question
    typed in Latin letters, without the Kazakh letters or with a typo is a variant the model
    should learn from, not a duplicate."""
    return " ".join(tok.lower.replace("ё", "е") for tok in tokenize(text))


class Examples(_Strict):
    """Example questions, the way people write them, per language: what the topic model
    learns from. Every language is given; no example twice (compared by :func:`example_key`)."""

    kk: list[str]
    ru: list[str]
    en: list[str]

    def get(self, lang: str) -> list[str]:
        return list(getattr(self, lang))

    def all(self) -> Iterable[tuple[str, str]]:
        for lang in LANGS:
            for text in self.get(lang):
                yield lang, text

    @field_validator("kk", "ru", "en")
    @classmethod
    def _each(cls, v: list[str]) -> list[str]:
        out = []
        seen: dict[str, str] = {}
        for text in v:
            if not isinstance(text, str):
                raise ValueError(f"{text!r} is not a text")
            text = text.strip()
            if not EXAMPLE_MIN <= len(text) <= EXAMPLE_MAX:
                raise ValueError(
                    f"{text!r}: {len(text)} characters, an example has "
                    f"{EXAMPLE_MIN}-{EXAMPLE_MAX}")
            k = example_key(text)
            if k in seen:
                raise ValueError(f"{text!r} repeats {seen[k]!r}")
            seen[k] = text
            out.append(text)
        return out


class OutOfScope(_Strict):
    """``content/out-of-scope.yaml``: examples of what the bot does not answer (small talk,
    homework, weather, poems, rates), the topic model's "none of these" class."""

    examples: Examples


class Section(StrEnum):
    CONSULAR = "consular"
    ABOUT = "about"


class Source(_Strict):
    url: Annotated[str, Field(pattern=r"^https://")]
    title: str | None = None


class Topic(_Strict):
    slug: str
    section: Section
    order: int = 100
    urgent: bool = False
    sample: bool = False
    title: TitleText
    summary: SummaryText
    body: BodyText
    keywords: Words
    related: list[str] = Field(default_factory=list)
    source: Source
    verified: bool = True
    reviewed: date
    examples: Examples | None = None
    # A short phrase naming this topic's case ("Lost or stolen"), the button when the bot
    # asks back which of two close topics is meant; without it the title is used.
    choice: ChoiceText | None = None

    _reviewed = field_validator("reviewed", mode="before")(_reviewed_date)

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG_RE.match(v):
            raise ValueError("lowercase latin letters, digits and hyphens only")
        return v

    @model_validator(mode="after")
    def _keywords_each_language(self) -> Topic:
        missing = [lang for lang in LANGS if not self.keywords.get(lang)]
        if missing:
            raise ValueError(f"keywords missing for {', '.join(missing)}")
        return self


class VisaRegime(StrEnum):
    VISA_FREE = "visa_free"
    VISA_ON_ARRIVAL = "visa_on_arrival"
    E_VISA = "e_visa"
    VISA_REQUIRED = "visa_required"


class Visa(_Strict):
    regime: VisaRegime
    max_stay_days: int | None = Field(default=None, ge=1, le=365)
    note: NoteText
    verified: bool = False


class Advisory(_Strict):
    """The safety level and its note; ``reviewed`` is when the advice was last checked and
    ``changed`` says, per language, what that review changed (shown on the card, and sent to
    followers and travellers when the level changes)."""

    level: int = Field(ge=1, le=4)
    note: NoteText
    verified: bool = False
    reviewed: date | None = None
    changed: NoteText | None = None

    @field_validator("reviewed", mode="before")
    @classmethod
    def _reviewed(cls, v: object) -> date | None:
        return None if v is None else _reviewed_date(v)


class Emergency(_Strict):
    general: str | None = None
    police: str | None = None
    ambulance: str | None = None
    fire: str | None = None
    verified: bool = False

    @model_validator(mode="after")
    def _some_number(self) -> Emergency:
        if not any((self.general, self.police, self.ambulance, self.fire)):
            raise ValueError("at least one emergency number")
        for name in ("general", "police", "ambulance", "fire"):
            value = getattr(self, name)
            if value is not None and not re.fullmatch(r"[0-9+ ()-]{2,20}", value):
                raise ValueError(f"{name}: {value!r} is not a phone number")
        return self


class MissionKind(StrEnum):
    EMBASSY = "embassy"
    CONSULATE_GENERAL = "consulate_general"
    CONSULATE = "consulate"


class Serves(_Strict):
    """The regions and cities a mission serves (its consular district), as people write
    them: several spellings per language. Compared by :func:`bot.shared.textnorm.place_key`."""

    regions: Words = Field(default_factory=Words)
    cities: Words = Field(default_factory=Words)

    @model_validator(mode="after")
    def _each_language(self) -> Serves:
        missing = [lang for lang in LANGS if not (self.regions.get(lang) or self.cities.get(lang))]
        if missing:
            raise ValueError(f"no region or city for {', '.join(missing)}")
        return self


class Mission(_Strict):
    """One mission; ``id`` (the country's code, a dash, the city) names it everywhere else
    (appointments, cases, the regions it serves); ``time_zone`` is the mission's own."""

    id: Annotated[str, Field(pattern=r"^[a-z]{2}-[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=40)]
    kind: MissionKind
    time_zone: str
    city: TitleText
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    website: Annotated[str, Field(pattern=r"^https://")] | None = None
    hours: NoteText | None = None
    verified: bool = False
    serves: Serves | None = None

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as Europe/Berlin"
                             ) from None
        return v


class Country(_Strict):
    iso: str
    sample: bool = False
    aliases: Aliases = Field(default_factory=Aliases)
    visa: Visa
    advisory: Advisory
    emergency: Emergency
    missions: list[Mission] = Field(min_length=1)
    source: Source
    reviewed: date

    _reviewed = field_validator("reviewed", mode="before")(_reviewed_date)

    @field_validator("iso")
    @classmethod
    def _iso(cls, v: str) -> str:
        from babel import Locale

        if not re.fullmatch(r"[A-Z]{2}", v) or v not in Locale("en").territories:
            raise ValueError("an ISO 3166-1 alpha-2 code in capitals, e.g. DE")
        return v


@dataclass
class ContentErrors(Exception):
    """All problems found in a content tree, each naming its file and field."""

    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.problems)


@dataclass(frozen=True)
class ContentBundle:
    topics: dict[str, Topic]
    countries: dict[str, Country]
    out_of_scope: OutOfScope | None = None


OUT_OF_SCOPE_FILE = "out-of-scope.yaml"


def _load_out_of_scope(root: Path, problems: list[str]) -> OutOfScope | None:
    path = root / OUT_OF_SCOPE_FILE
    if not path.exists():
        return None
    data = _read_yaml(path, problems)
    if data is None:
        return None
    try:
        return OutOfScope.model_validate(data)
    except ValidationError as exc:
        problems.extend(_format_error(path, exc))
        return None


def _check_examples_unique(
    root: Path, topics: dict[str, Topic], out_of_scope: OutOfScope | None, problems: list[str]
) -> None:
    """No example question in two topics, or in a topic and the out-of-scope file: the model
    could not tell them apart."""
    owners: dict[str, str] = {}
    sources: list[tuple[str, Examples]] = [
        (f"{root / 'topics' / slug}.yaml", t.examples)
        for slug, t in topics.items() if t.examples is not None
    ]
    if out_of_scope is not None:
        sources.append((str(root / OUT_OF_SCOPE_FILE), out_of_scope.examples))
    for path, examples in sources:
        for lang, text in examples.all():
            k = example_key(text)
            other = owners.setdefault(k, path)
            if other != path:
                problems.append(
                    f"{path}: examples.{lang}: {text!r} is an example in {Path(other).name} too")


def _check_aliases_unique(root: Path, countries: dict[str, Country], problems: list[str]) -> None:
    """No alias names two countries: the analyzer could not tell which one is meant."""
    owners: dict[str, str] = {}
    for iso, country in countries.items():
        for lang, alias in country.aliases.all():
            other = owners.setdefault(alias.casefold(), iso)
            if other != iso:
                problems.append(f"{root / 'countries' / iso.lower()}.yaml: aliases.{lang}: "
                                f"{alias!r} also names {other} ({other.lower()}.yaml)")


def _format_error(path: Path, exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(file)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required field is missing"
        out.append(f"{path}: {where}: {msg}")
    return out


def _read_yaml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(f"{path}: cannot be read as YAML: {str(exc).splitlines()[0]}")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path}: (file): expected a mapping of fields")
        return None
    return data


def _load_folder(
    folder: Path, model: type[_Strict], key_field: str, file_key: Callable[[Path], str],
    problems: list[str],
) -> dict[str, Any]:
    """Validate each file of one folder; its key (slug, iso) must match its file name."""
    items: dict[str, Any] = {}
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.y*ml")):
        data = _read_yaml(path, problems)
        if data is None:
            continue
        try:
            item = model.model_validate(data)
        except ValidationError as exc:
            problems.extend(_format_error(path, exc))
            continue
        key = getattr(item, key_field)
        if key in seen:
            problems.append(f"{path}: {key_field}: {key!r} is used by {seen[key].name} too")
        elif file_key(path) != key:
            problems.append(f"{path}: {key_field}: {key!r} differs from the file name")
        else:
            items[key] = item
        seen.setdefault(key, path)
    return items


def load_tree(root: Path) -> ContentBundle:
    """Read and validate every file under ``root``; raise :class:`ContentErrors`."""
    problems: list[str] = []
    if not root.is_dir():
        raise ContentErrors([f"{root}: not a directory"])
    topics: dict[str, Topic] = _load_folder(
        root / "topics", Topic, "slug", lambda p: p.stem, problems)
    countries: dict[str, Country] = _load_folder(
        root / "countries", Country, "iso", lambda p: p.stem.upper(), problems)
    seen_missions: dict[str, str] = {}
    for iso, country in countries.items():
        where = f"{root / 'countries' / iso.lower()}.yaml"
        for mission in country.missions:
            if not mission.id.startswith(f"{iso.lower()}-"):
                problems.append(f"{where}: missions: id {mission.id!r} must start with "
                                f"{iso.lower()!r}-")
            if mission.id in seen_missions:
                problems.append(f"{where}: missions: id {mission.id!r} is also used in "
                                f"{seen_missions[mission.id]}")
            seen_missions[mission.id] = where
        problems.extend(_check_districts(where, country))
    for slug, topic in topics.items():
        for rel in topic.related:
            if rel not in topics:
                problems.append(f"{root / 'topics' / slug}.yaml: related: no topic {rel!r}")
    _check_aliases_unique(root, countries, problems)
    out_of_scope = _load_out_of_scope(root, problems)
    _check_examples_unique(root, topics, out_of_scope, problems)
    if not topics and not countries and not problems:
        problems.append(f"{root}: no topic or country files found")
    if problems:
        raise ContentErrors(problems)
    return ContentBundle(topics=topics, countries=countries, out_of_scope=out_of_scope)


def _check_districts(where: str, country: Country) -> list[str]:
    """A country with several missions says which places each serves, and no place is
    served by two of its missions (compared as :func:`bot.shared.textnorm.place_key`)."""
    if len(country.missions) < 2:
        return []
    out = []
    owner: dict[tuple[str, str], str] = {}
    for mission in country.missions:
        if mission.serves is None:
            out.append(f"{where}: missions: {mission.id}: serves: required where a country "
                       f"has several missions")
            continue
        for kind, words in (("cities", mission.serves.cities),
                            ("regions", mission.serves.regions)):
            for _lang, name in words.all():
                key = (kind, place_key(name))
                if owner.get(key, mission.id) != mission.id:
                    out.append(f"{where}: missions: {mission.id}: serves: {kind}: {name!r} is "
                               f"served by {owner[key]} too")
                owner.setdefault(key, mission.id)
    return out


def dump_yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
