"""The content store: the shipped files are complete and valid; bad files are refused with
the file and field named; import is idempotent and reports changes; export round-trips."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from bot.answers.content import LANGS, ContentErrors, load_tree
from bot.answers.store import ContentStore, export_content, import_content
from storage.db import create_engine, create_session_factory
from storage.models.answers import CountryRow, TopicRow
from tests.kit import CONTENT

REQUIRED_TOPICS = [
    "passport-renewal",
    "lost-passport",
    "consular-registration",
    "visa-for-citizens",
    "visa-to-kazakhstan",
    "legalization-apostille",
    "civil-registration",
    "citizenship",
    "emergency-help",
    "death-abroad",
    "consular-fees",
    "notary-services",
    "document-reclaiming",
    "kandas",
    "voting-abroad",
    "appointment",
    "travel-advisory",
    "driving-licence",
    "work-abroad",
    "study-abroad",
    "kz-history",
    "kz-geography",
    "kz-economy",
    "kz-politics",
    "kz-culture",
    "kz-tourism",
    "kz-investment",
]
NEIGHBOURS = {"RU", "CN", "KG", "UZ", "TM"}


def test_shipped_content_is_complete() -> None:
    bundle = load_tree(CONTENT)
    assert set(REQUIRED_TOPICS) <= set(bundle.topics)
    assert len(bundle.countries) >= 30
    assert NEIGHBOURS <= set(bundle.countries)
    for topic in bundle.topics.values():
        for lang in LANGS:
            assert len(topic.body.get(lang)) > 400, (topic.slug, lang)
            assert len(topic.keywords.get(lang)) >= 5, (topic.slug, lang)
    for country in bundle.countries.values():
        assert country.missions and country.emergency


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(CONTENT, root)
    return root


def _edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "change", "expected"),
    [
        ("topics/lost-passport.yaml", lambda d: d["body"].pop("kk"),
         "body.kk: required field is missing"),
        ("topics/lost-passport.yaml", lambda d: d.update(colour="red"), "colour: unknown field"),
        ("topics/lost-passport.yaml", lambda d: d["body"].update(en="<script>x</script>"),
         "body.en: HTML that Telegram would refuse: unsupported tag <script>"),
        ("topics/lost-passport.yaml", lambda d: d["body"].update(ru="<b>открыт"),
         "body.ru: HTML that Telegram would refuse: <b> is not closed"),
        ("topics/lost-passport.yaml", lambda d: d["body"].update(en="x" * 5000),
         "body.en: 5000 characters, the limit is 3500"),
        ("topics/lost-passport.yaml", lambda d: d["title"].update(kk="ұзын " * 30),
         "title.kk: 150 characters, the limit is 60"),
        ("topics/lost-passport.yaml", lambda d: d.update(related=["no-such"]),
         "related: no topic 'no-such'"),
        ("countries/de.yaml", lambda d: d.update(iso="XX"), "iso: an ISO 3166-1 alpha-2 code"),
        ("countries/de.yaml", lambda d: d["emergency"].update(police="call me"),
         "police: 'call me' is not a phone number"),
        ("countries/de.yaml", lambda d: d["advisory"].update(level=7), "advisory.level:"),
        ("topics/lost-passport.yaml", lambda d: d.pop("reviewed"),
         "reviewed: required field is missing"),
        ("countries/de.yaml", lambda d: d.pop("reviewed"), "reviewed: required field is missing"),
        ("topics/kandas.yaml", lambda d: d.update(reviewed=date.today() + timedelta(days=2)),
         f"reviewed: {(date.today() + timedelta(days=2)).isoformat()} is in the future"),
        ("countries/de.yaml", lambda d: d.update(reviewed="next week"),
         "reviewed: 'next week' is not a date like 2026-11-20"),
        ("countries/de.yaml", lambda d: d.update(reviewed="2026-02-30"),
         "reviewed: '2026-02-30' is not a date like 2026-11-20"),
        ("topics/kandas.yaml",
         lambda d: d.update(examples={"kk": ["қандас мәртебесі"], "ru": ["кандас статус"]}),
         "examples.en: required field is missing"),
        ("topics/kandas.yaml",
         lambda d: d.update(examples={"kk": ["қандас"], "ru": ["а"], "en": ["kandas status"]}),
         "examples.ru: 'а': 1 characters, an example has 2-300"),
        ("topics/kandas.yaml", lambda d: d.update(
            examples={"kk": ["қандас"], "ru": ["кандас"], "en": ["x" * 301]}),
         "examples.en: 'xxx"),
        ("topics/kandas.yaml", lambda d: d.update(examples={
            "kk": ["Қандас мәртебесі?", "қандас  МӘРТЕБЕСІ"], "ru": ["кандас"], "en": ["kandas"]}),
         "examples.kk: 'қандас  МӘРТЕБЕСІ' repeats 'Қандас мәртебесі?'"),
        ("countries/de.yaml", lambda d: d["missions"][0].update(time_zone="Europe/Berlinn"),
         "missions.0.time_zone: unknown time zone 'Europe/Berlinn'"),
        ("countries/de.yaml", lambda d: d["missions"][1].update(id="de-berlin"),
         "missions: id 'de-berlin' is also used in"),
        ("countries/de.yaml", lambda d: d["missions"][0].update(id="fr-berlin"),
         "missions: id 'fr-berlin' must start with 'de'-"),
        ("countries/de.yaml", lambda d: d["missions"][0].pop("id"),
         "missions.0.id: required field is missing"),
        ("topics/lost-passport.yaml", lambda d: d["choice"].update(en="Lost, stolen " * 5),
         "choice.en: 65 characters, the limit is 40"),
        ("topics/lost-passport.yaml", lambda d: d["choice"].pop("kk"),
         "choice.kk: required field is missing"),
        ("countries/de.yaml", lambda d: d["aliases"]["ru"].append("Берлин"),
         "aliases.ru: 'Берлин' is given twice"),
        ("countries/fr.yaml", lambda d: d["aliases"]["en"].append("Berlin"),
         "aliases.en: 'Berlin' also names DE (de.yaml)"),
        ("countries/de.yaml", lambda d: d["aliases"]["kk"].append("123"),
         "aliases.kk: '123' is not a name"),
    ],
)
def test_invalid_files_name_the_file_and_field(
    tmp_path: Path, file: str, change: Callable[[dict[str, Any]], object], expected: str
) -> None:
    root = _copy(tmp_path)
    _edit(root / file, change)
    with pytest.raises(ContentErrors) as err:
        load_tree(root)
    assert any(p.startswith(str(root / file)) and expected in p for p in err.value.problems), \
        err.value.problems


def test_shipped_topics_have_examples_in_every_language() -> None:
    """The topic model learns each topic from at least 25 example questions per language, and
    what the bot does not answer from the out-of-scope file."""
    bundle = load_tree(CONTENT)
    short = [(slug, lang, len(t.examples.get(lang)) if t.examples else 0)
             for slug, t in bundle.topics.items() for lang in LANGS
             if t.examples is None or len(t.examples.get(lang)) < 25]
    assert short == []
    assert bundle.out_of_scope is not None
    assert all(len(bundle.out_of_scope.examples.get(lang)) >= 20 for lang in LANGS)


def _examples(kk: list[str], ru: list[str], en: list[str]) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.update(examples={"kk": kk, "ru": ru, "en": en})


def test_an_example_in_two_topics_or_also_out_of_scope_is_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _edit(root / "topics" / "kandas.yaml",
          _examples(["қандас болу"], ["кандас статус"], ["visa Germany please"]))
    _edit(root / "topics" / "visa-for-citizens.yaml",
          _examples(["виза керек"], ["Кандас  статус!"], ["schengen visa"]))
    (root / "out-of-scope.yaml").write_text(yaml.safe_dump(
        {"examples": {"kk": ["ауа райы қандай"], "ru": ["какая погода"],
                      "en": ["Schengen visa"]}}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentErrors) as err:
        load_tree(root)
    problems = "\n".join(err.value.problems)
    assert ("visa-for-citizens.yaml: examples.ru: 'Кандас  статус!' is an example in "
            "kandas.yaml too") in problems
    assert ("out-of-scope.yaml: examples.en: 'Schengen visa' is an example in "
            "visa-for-citizens.yaml too") in problems


def test_a_broken_out_of_scope_file_names_itself(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "out-of-scope.yaml").write_text(
        yaml.safe_dump({"examples": {"kk": ["ауа райы"], "ru": ["погода"]}, "poems": 1},
                       allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentErrors) as err:
        load_tree(root)
    problems = "\n".join(err.value.problems)
    assert f"{root / 'out-of-scope.yaml'}: examples.en: required field is missing" in problems
    assert f"{root / 'out-of-scope.yaml'}: poems: unknown field" in problems


@pytest.mark.asyncio
async def test_examples_and_out_of_scope_are_imported_and_exported(
    db_url: str, tmp_path: Path
) -> None:
    """The out-of-scope examples live in the database as a content document beside the
    topics; the store loads them, and export writes the file back the same."""
    root = _copy(tmp_path)
    _edit(root / "topics" / "kandas.yaml",
          _examples(["қандас мәртебесін алу"], ["как стать кандасом"], ["kandas status"]))
    oos = {"examples": {"kk": ["ауа райы қандай"], "ru": ["какая погода завтра"],
                        "en": ["write me a poem"]}}
    (root / "out-of-scope.yaml").write_text(yaml.safe_dump(oos, allow_unicode=True),
                                            encoding="utf-8")
    engine = create_engine(db_url)
    factory = create_session_factory(engine)
    try:
        first = await import_content(factory, root)
        assert "document out-of-scope" in first.added
        again = await import_content(factory, root)
        assert not again.touched
        store = await ContentStore.load(factory, cache_dir=tmp_path / "cache")
        assert store.out_of_scope is not None
        assert store.out_of_scope.examples.en == ["write me a poem"]
        assert store.topics["kandas"].examples is not None
        assert ("write me a poem", "~out-of-scope") in store.samples()
        out = tmp_path / "exported"
        await export_content(factory, out)
        reread = load_tree(out)
        assert reread.out_of_scope == store.out_of_scope
        assert reread.topics["kandas"].examples == store.topics["kandas"].examples

        (root / "out-of-scope.yaml").unlink()
        gone = await import_content(factory, root)
        assert gone.removed == ["document out-of-scope"]
    finally:
        await engine.dispose()


def test_duplicate_slug_and_broken_yaml(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    shutil.copy(root / "topics" / "lost-passport.yaml", root / "topics" / "lost-passport-2.yaml")
    (root / "countries" / "fr.yaml").write_text("iso: FR\n  visa: [broken", encoding="utf-8")
    with pytest.raises(ContentErrors) as err:
        load_tree(root)
    problems = "\n".join(err.value.problems)
    assert ("lost-passport.yaml: slug: 'lost-passport' is used by lost-passport-2.yaml too"
            in problems)
    assert "fr.yaml: cannot be read as YAML" in problems


@pytest.mark.asyncio
async def test_import_is_idempotent_and_reports_changes(db_url: str, tmp_path: Path) -> None:
    root = _copy(tmp_path)
    engine = create_engine(db_url)
    factory = create_session_factory(engine)
    try:
        first = await import_content(factory, root)
        bundle = load_tree(root)
        assert len(first.added) == (len(bundle.topics) + len(bundle.countries)
                                    + (bundle.out_of_scope is not None))
        second = await import_content(factory, root)
        assert not second.touched and second.unchanged == len(first.added)

        _edit(root / "topics" / "kandas.yaml", lambda d: d["summary"].update(en="Changed."))
        (root / "countries" / "hu.yaml").unlink()
        third = await import_content(factory, root)
        assert third.changed == ["topic kandas"]
        assert third.removed == ["country HU"]
        assert third.added == []

        _edit(root / "topics" / "kandas.yaml", lambda d: d["body"].pop("kk"))
        with pytest.raises(ContentErrors):
            await import_content(factory, root)
        async with factory() as session:
            count = await session.scalar(select(func.count()).select_from(CountryRow))
            summary = (await session.get(TopicRow, "kandas")).data["summary"]["en"]  # type: ignore[union-attr]
        assert count == len(bundle.countries) - 1  # nothing of the invalid import landed
        assert summary == "Changed."

        out = tmp_path / "exported"
        written = await export_content(factory, out)
        assert written == (len(bundle.topics) + len(bundle.countries) - 1
                           + (bundle.out_of_scope is not None))
        reread = load_tree(out)
        assert reread.topics["kandas"].summary.en == "Changed."
        # the review date goes out as an editor writes it and comes back the same
        assert reread.topics["kandas"].reviewed == bundle.topics["kandas"].reviewed
        assert reread.countries["DE"].reviewed == bundle.countries["DE"].reviewed
        exported = (out / "topics" / "kandas.yaml").read_text(encoding="utf-8")
        assert f"\nreviewed: {bundle.topics['kandas'].reviewed.isoformat()}\n" in exported
        store = await ContentStore.load(factory)
        assert "kandas" in store.topics and "HU" not in store.countries
        assert store.topics["kandas"].reviewed == bundle.topics["kandas"].reviewed
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_content_imported_before_review_dates_asks_for_an_import(db_url: str) -> None:
    """A database filled by an older version (no review dates) stops start-up with one line
    saying what to run, not with a validation traceback."""
    from bot.answers.store import ContentOutdated

    engine = create_engine(db_url)
    factory = create_session_factory(engine)
    try:
        await import_content(factory, CONTENT)
        async with factory() as session, session.begin():
            row = await session.get(TopicRow, "kandas")
            assert row is not None
            row.data = {k: v for k, v in row.data.items() if k != "reviewed"}
        with pytest.raises(ContentOutdated, match=r"run `python bot\.py content import`"):
            await ContentStore.load(factory)
    finally:
        await engine.dispose()


# One term for one thing in the texts a person reads (keywords and aliases are search
# vocabulary and may hold the other spellings on purpose).
TERMS = {
    "kk": [(r"\bХБА\b|\bХІМ\b", "the ministry is СІМ"),
           (r"\bАХАЖ\b", "the civil registry is АХАТ"),
           (r"[Аа]удармасыз|[Аа]ударма мен заңгер", "an interpreter is аудармашы")],
    "en": [(r"\b(Spec)?CON\b", "write out Public Service Centre")],
}


def _texts(node: Any, lang: str) -> list[str]:
    if isinstance(node, dict):
        if isinstance(node.get(lang), str) and set(node) <= set(LANGS):
            return [node[lang]]
        return [t for key, value in node.items()
                if key not in ("keywords", "aliases", "examples")
                for t in _texts(value, lang)]
    if isinstance(node, list):
        return [t for value in node for t in _texts(value, lang)]
    return []


@pytest.mark.parametrize("lang", sorted(TERMS))
def test_content_uses_one_term_for_one_thing(lang: str) -> None:
    problems = []
    for path in sorted(CONTENT.glob("*/*.yaml")):
        for text in _texts(yaml.safe_load(path.read_text(encoding="utf-8")), lang):
            for pattern, rule in TERMS[lang]:
                problems += [f"{path.name}: {m.group(0)!r} ({rule})"
                             for m in re.finditer(pattern, text)]
    assert problems == []


def test_every_topic_names_its_case_for_the_ask_back_question() -> None:
    """The short phrase on a topic's button when the bot asks which of two close topics is
    meant: in every language, and distinct within each language."""
    bundle = load_tree(CONTENT)
    for lang in LANGS:
        labels = []
        for topic in bundle.topics.values():
            assert topic.choice is not None, topic.slug
            label = topic.choice.get(lang)
            assert 0 < len(label) <= 40, (topic.slug, lang)
            labels.append(label)
        assert len(set(labels)) == len(labels), lang
    lost, renewal = bundle.topics["lost-passport"], bundle.topics["passport-renewal"]
    assert lost.choice is not None and renewal.choice is not None
    assert (lost.choice.en, renewal.choice.en) == ("Lost or stolen", "Expired or damaged")
