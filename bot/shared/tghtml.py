"""Telegram's HTML subset: validation, plain-text length and safe splitting.

Telegram accepts only a handful of tags in ``parse_mode=HTML`` and counts message
limits in UTF-16 code units of the text *after* the markup is parsed. Content files
and editors' posts are checked here before they can reach a chat.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser

ALLOWED_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "a", "tg-emoji", "code", "pre", "blockquote",
    }
)
ALLOWED_ATTRS = {
    "a": {"href"},
    "span": {"class"},
    "tg-emoji": {"emoji-id"},
    "code": {"class"},
    "blockquote": {"expandable"},
}
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


class TelegramHTMLError(ValueError):
    """The markup would be refused by Telegram; the message says why."""


@dataclass(frozen=True)
class ParsedHTML:
    text: str

    @property
    def length(self) -> int:
        return utf16_len(self.text)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Checker(HTMLParser):
    def __init__(self, spell_links: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.parts: list[str] = []
        self.spell_links = spell_links
        self._hrefs: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise TelegramHTMLError(f'unsupported tag <{tag}>')
        allowed = ALLOWED_ATTRS.get(tag, set())
        for name, value in attrs:
            if name not in allowed:
                raise TelegramHTMLError(f'attribute "{name}" is not allowed in <{tag}>')
            if tag == "span" and value != "tg-spoiler":
                raise TelegramHTMLError('<span> needs class="tg-spoiler"')
        if tag == "a":
            href = dict(attrs).get("href")
            if not href:
                raise TelegramHTMLError("<a> needs an href")
            self._hrefs.append((href, len(self.parts)))
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise TelegramHTMLError(f"self-closing <{tag}/> is not accepted")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise TelegramHTMLError(f"unexpected closing </{tag}>")
        self.stack.pop()
        if tag == "a" and self._hrefs:
            href, start = self._hrefs.pop()
            text = "".join(self.parts[start:])
            if self.spell_links and href.removeprefix("https://") not in text:
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_comment(self, data: str) -> None:
        raise TelegramHTMLError("comments are not accepted")


_BARE_AMP = re.compile(r"&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)")


def parse(markup: str, spell_links: bool = False) -> ParsedHTML:
    """Check ``markup`` the way Telegram would and return its plain text.

    ``spell_links`` writes each link's address after its text, for plain-text output.
    """
    if _BARE_AMP.search(markup):
        raise TelegramHTMLError('a bare "&" must be written as &amp;')
    checker = _Checker(spell_links)
    checker.feed(markup)
    checker.close()
    if checker.stack:
        raise TelegramHTMLError(f"<{checker.stack[-1]}> is not closed")
    return ParsedHTML("".join(checker.parts))


def plain_length(markup: str) -> int:
    return parse(markup).length


def quote(text: str) -> str:
    """Escape text that came from a person before it goes into HTML."""
    return html.escape(text, quote=False)


_TAG = re.compile(r"<(/?)([a-z-]+)[^>]*>")


def split(markup: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """:func:`split_markup`, remembered: the same cards are sent again and again."""
    return list(_split_cached(markup, limit))


@lru_cache(maxsize=2048)
def _split_cached(markup: str, limit: int) -> tuple[str, ...]:
    return tuple(split_markup(markup, limit))


def split_markup(markup: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split valid markup into chunks each within ``limit`` after parsing.

    Splits at paragraph breaks, then line breaks, then spaces; tags open at a split
    are closed at the end of one chunk and reopened at the start of the next.
    """
    if utf16_len(markup) <= limit or plain_length(markup) <= limit:
        return [markup]
    chunks: list[str] = []
    rest = markup
    while rest and plain_length(rest) > limit:
        cut = _best_cut(rest, limit)
        head, rest = rest[:cut], rest[cut:].lstrip("\n ")
        open_tags = _open_tags(head)
        chunks.append(head.rstrip() + "".join(f"</{t.split()[0]}>" for t in reversed(open_tags)))
        rest = "".join(f"<{t}>" for t in open_tags) + rest
    if rest.strip():
        chunks.append(rest)
    return chunks


def _open_tags(markup: str) -> list[str]:
    stack: list[str] = []
    for m in re.finditer(r"<(/?)([a-z-]+)([^>]*)>", markup):
        closing, name, attrs = m.groups()
        if closing:
            if stack:
                stack.pop()
        else:
            stack.append(name + attrs)
    return stack


def _best_cut(markup: str, limit: int) -> int:
    """The largest position at a natural break whose plain text fits the limit."""
    budget = limit - 16
    visible = 0
    last = {"\n\n": 0, "\n": 0, " ": 0}
    i = 0
    while i < len(markup):
        if markup[i] == "<":
            end = markup.find(">", i)
            i = end + 1
            continue
        if markup[i] == "&":
            end = markup.find(";", i)
            i = end + 1
            visible += 1
            continue
        visible += utf16_len(markup[i])
        if visible > budget:
            break
        if markup.startswith("\n\n", i):
            last["\n\n"] = i
        if markup[i] == "\n":
            last["\n"] = i
        if markup[i] == " ":
            last[" "] = i
        i += 1
    for sep in ("\n\n", "\n", " "):
        if last[sep] > 0 and not _inside_tag_attr(markup, last[sep]):
            return last[sep]
    return i


def _inside_tag_attr(markup: str, pos: int) -> bool:
    return markup.rfind("<", 0, pos) > markup.rfind(">", 0, pos)
