"""Telegram HTML / MarkdownV2 parsing rules."""

from __future__ import annotations

import pytest

from localapi.html import (
    EntityParseError,
    entities_to_html,
    parse_html,
    parse_markdown_v2,
    strip_text,
    utf16_len,
)


def test_valid_html_gives_plain_text_and_utf16_entities() -> None:
    text, entities = parse_html(
        '😀 <b>Bold <i>both</i></b> <a href="https://e.kz/?a=1&amp;b=2">link</a> '
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler> &lt;x&gt; &#8364;&#x41;'
    )
    assert text == "😀 Bold both link st <x> €A"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://e.kz/?a=1&b=2"},
        {"type": "spoiler", "offset": 18, "length": 1},
        {"type": "spoiler", "offset": 19, "length": 1},
    ]


def test_pre_with_language_blockquotes_and_synonyms() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">x = 1</code></pre><strong>s</strong><em>e</em>'
        "<ins>u</ins><del>d</del><strike>k</strike><blockquote>q</blockquote>"
        "<blockquote expandable>w</blockquote><code>c</code>"
    )
    assert text == "x = 1seudkqwc"
    assert [e["type"] for e in entities] == [
        "pre",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "strikethrough",
        "blockquote",
        "expandable_blockquote",
        "code",
    ]
    assert entities[0] == {"type": "pre", "offset": 0, "length": 5, "language": "python"}


@pytest.mark.parametrize(
    ("source", "description"),
    [
        ("hi <xyz>a</xyz>", 'Unsupported start tag "xyz" at byte offset 3'),
        ("Привет <br>", 'Unsupported start tag "br" at byte offset 13'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x>t</a>', 'Unclosed start tag "a" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_bad_html_is_refused_with_telegram_wording(source: str, description: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert str(caught.value) == description


def test_unknown_named_reference_stays_literal() -> None:
    assert parse_html("a &nbsp; b &amp;") == ("a &nbsp; b &", [])


def test_html_round_trip() -> None:
    source = (
        '<b>a <i>b</i></b> <a href="https://x.org">c</a> '
        '<pre><code class="language-go">d</code></pre>'
    )
    text, entities = parse_html(source)
    assert entities_to_html(text, entities) == source
    assert parse_html(entities_to_html(text, entities)) == (text, entities)


def test_markdown_v2() -> None:
    text, entities = parse_markdown_v2(r"*bold _it_* __u__ ~s~ ||sp|| `c` [l](https://x.org) 1\.0")
    assert text == "bold it u s sp c l 1.0"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    with pytest.raises(EntityParseError) as caught:
        parse_markdown_v2("version 1.0")
    assert (
        str(caught.value)
        == "Character '.' is reserved and must be escaped with the preceding '\\'"
    )


def test_strip_and_utf16() -> None:
    assert utf16_len("a😀") == 3
    assert strip_text("  <b> x </b>", [{"type": "bold", "offset": 2, "length": 10}]) == (
        "<b> x </b>",
        [{"type": "bold", "offset": 0, "length": 10}],
    )
