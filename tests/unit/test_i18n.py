"""Catalogs: every message translated in kk, ru and en, with the same placeholders and tags."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.answers.cards import visa_label
from bot.answers.content import VisaRegime
from bot.shared.i18n import create_i18n, locale
from tests.kit import ROOT

LOCALES = ROOT / "locales"
PLACEHOLDER = re.compile(r"\{\w*\}")
TAG = re.compile(r"</?[a-z-]+")


def _catalog(lang: str):  # type: ignore[no-untyped-def]
    with open(LOCALES / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_every_message_is_translated_with_same_placeholders(lang: str) -> None:
    catalog = _catalog(lang)
    problems = []
    for msg in catalog:
        if not msg.id:
            continue
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        if msg.fuzzy or not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        for s in strings:
            if sorted(PLACEHOLDER.findall(s)) != sorted(PLACEHOLDER.findall(ids[0])):
                problems.append(f"placeholders differ: {ids[0]!r} -> {s!r}")
            if sorted(TAG.findall(s)) != sorted(TAG.findall(ids[0])):
                problems.append(f"HTML tags differ: {ids[0]!r} -> {s!r}")
    assert problems == []


def test_catalogs_hold_every_message_in_the_code(tmp_path: Path) -> None:
    """A string added to the code but not to the catalogs (make i18n not run) fails here."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "__", "-k", "lazy_gettext", "-o", str(pot), "bot", "handlers", "bot.py"],
        cwd=ROOT, check=True, capture_output=True,
    )
    with open(pot, "rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    for lang in ("kk", "ru", "en"):
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalog(lang) if m.id}
        assert wanted - have == set(), f"{lang} catalog lacks messages: run `make i18n`"


def test_translations_are_not_copies_of_english() -> None:
    en = {m.id: m.string for m in _catalog("en") if m.id}
    for lang in ("kk", "ru"):
        same = [m.id for m in _catalog(lang)
                if m.id and m.string == en.get(m.id)
                and re.search(r"[a-z]{4}", PLACEHOLDER.sub("", str(m.id)))
                and not str(m.id).startswith("/")]
        assert same == [], f"{lang}: left in English: {same[:5]}"


@pytest.mark.parametrize(("lang", "word"), [("kk", "виза"), ("ru", "виза"), ("en", "visa")])
def test_visa_line_does_not_repeat_its_label(lang: str, word: str) -> None:
    """The card shows "🛂 Visa: {regime}": the regime must not say "visa" again."""
    with locale(create_i18n("en"), lang):
        labels = [visa_label(regime) for regime in VisaRegime]
    repeated = [label for label in labels if word in label.split("(")[0].lower()]
    assert repeated == []


def test_kazakh_counters_are_not_calques_of_english_of() -> None:
    """"step 1 of 7" is "1-қадам (барлығы 7)" in Kazakh, not the calque "1-қадам (7-ден)"."""
    calque = re.compile(r"\(\s*\S+-(ден|тен|нан|дан|тан|нен)\s*\)")
    bad = [m.string for m in _catalog("kk")
           if m.id and isinstance(m.string, str) and calque.search(m.string)]
    assert bad == []
