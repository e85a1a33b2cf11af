"""Telegram's formatted-text rules: HTML and MarkdownV2 parsing, entity rendering.

``parse_html(text)`` turns Telegram's HTML subset into ``(plain_text, entities)``
the way the Bot API does, with entity offsets and lengths in UTF-16 code units,
and raises :class:`EntityParseError` carrying Telegram's own wording
("Unsupported start tag \\"xyz\\" at byte offset 0", ...). The server prefixes it
with ``Bad Request: can't parse entities: ``.

Supported tags: ``b strong i em u ins s strike del span class="tg-spoiler"
tg-spoiler a href tg-emoji emoji-id code pre (code class="language-x" inside
pre) blockquote [expandable]``; character references ``&lt; &gt; &amp; &quot;``
and numeric ``&#NN;`` / ``&#xHH;``. Any other tag is an error; an unknown
``&name;`` is kept literally, as Telegram does.

``parse_markdown_v2(text)`` covers MarkdownV2: ``*bold* _italic_ __underline__
~strike~ ||spoiler|| `code` ```lang pre``` [text](url)`` and ``>`` quotes,
with the reserved-character rule.

``entities_to_html`` and ``render_entities`` walk ``(text, entities)`` back to
markup: the first for the server's message views, the second (with callbacks)
for the terminal chat.
"""

from __future__ import annotations

import html as _stdhtml
import re
from collections.abc import Callable
from typing import Any

Entity = dict[str, Any]

_SIMPLE_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
_ALL_TAGS = set(_SIMPLE_TAGS) | {"a", "span", "tg-emoji", "code", "pre", "blockquote"}
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = b" \t\r\n\f\v"


class EntityParseError(ValueError):
    """Formatted text that Telegram would refuse; ``str(error)`` is Telegram's text."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram counts in."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _decode_reference(data: bytes, pos: int) -> tuple[str, int] | None:
    """Decode ``&...;`` at ``data[pos]``; return (character, index after ';')."""
    end = data.find(b";", pos + 1, pos + 12)
    if end < 0:
        return None
    body = data[pos + 1 : end].decode("ascii", "replace")
    if body.startswith("#"):
        try:
            code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
        except ValueError:
            return None
        if code <= 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code), end + 1
    if body in _NAMED_REFS:
        return _NAMED_REFS[body], end + 1
    return None


def _decode_attribute(raw: bytes) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        if raw[i] == ord("&"):
            ref = _decode_reference(raw, i)
            if ref:
                out.append(ref[0])
                i = ref[1]
                continue
        j = raw.find(b"&", i + 1)
        j = len(raw) if j < 0 else j
        out.append(raw[i:j].decode("utf-8", "replace"))
        i = j
    return "".join(out)


class _OpenTag:
    __slots__ = ("argument", "extra", "name", "utf16_start")

    def __init__(self, name: str, argument: str, utf16_start: int, extra: str = "") -> None:
        self.name = name
        self.argument = argument
        self.utf16_start = utf16_start
        self.extra = extra


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into plain text and entities (UTF-16 offsets)."""
    data = text.encode("utf-8")
    size = len(data)
    out: list[str] = []
    offset = 0
    stack: list[_OpenTag] = []
    entities: list[Entity] = []

    def at(k: int) -> int:
        return data[k] if k < size else 0

    def emit(piece: str) -> None:
        nonlocal offset
        out.append(piece)
        offset += utf16_len(piece)

    i = 0
    while i < size:
        c = data[i]
        if c == ord("&"):
            ref = _decode_reference(data, i)
            if ref:
                emit(ref[0])
                i = ref[1]
                continue
        if c != ord("<"):
            j = i + 1
            while j < size and data[j] not in (ord("<"), ord("&")):
                j += 1
            emit(data[i:j].decode("utf-8", "replace"))
            i = j
            continue

        begin = i
        i += 1
        if at(i) != ord("/"):
            while at(i) and at(i) not in _SPACE and at(i) != ord(">"):
                i += 1
            if not at(i):
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _ALL_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            extra = ""
            while at(i) != ord(">"):
                while at(i) and at(i) in _SPACE:
                    i += 1
                if at(i) == ord(">"):
                    break
                if not at(i):
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                name_begin = i
                while at(i) and at(i) not in _SPACE and at(i) not in (ord("="), ord(">")):
                    i += 1
                attr_name = data[name_begin:i].decode("utf-8", "replace").lower()
                if not attr_name:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                    )
                while at(i) and at(i) in _SPACE:
                    i += 1
                if at(i) != ord("="):
                    if tag == "blockquote" and attr_name == "expandable":
                        extra = "expandable"
                        continue
                    raise EntityParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {begin}'
                    )
                i += 1
                while at(i) and at(i) in _SPACE:
                    i += 1
                if not at(i):
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) in (ord('"'), ord("'")):
                    quote = at(i)
                    end = data.find(bytes([quote]), i + 1)
                    if end < 0:
                        raise EntityParseError(
                            f'Unclosed start tag "{tag}" at byte offset {begin}'
                        )
                    value = _decode_attribute(data[i + 1 : end])
                    i = end + 1
                else:
                    token_begin = i
                    while at(i) and (chr(at(i)).isalnum() or at(i) in (ord("."), ord("-"))):
                        i += 1
                    value = data[token_begin:i].decode("ascii", "replace").lower()
                    if at(i) not in _SPACE and at(i) != ord(">"):
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                )
            stack.append(_OpenTag(tag, argument, offset, extra))
            i += 1
            continue

        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        i += 1
        name_begin = i
        while at(i) and at(i) not in _SPACE and at(i) != ord(">"):
            i += 1
        end_name = data[name_begin:i].decode("utf-8", "replace").lower()
        while at(i) and at(i) in _SPACE:
            i += 1
        if at(i) != ord(">"):
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        i += 1
        top = stack.pop()
        if end_name and end_name != top.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{top.name}>", '
                f'found "</{end_name}>"'
            )
        _close_tag(top, offset, "".join(out), entities, stack)

    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    return "".join(out), sort_entities(entities)


def _close_tag(
    tag: _OpenTag, offset: int, text: str, entities: list[Entity], stack: list[_OpenTag]
) -> None:
    length = offset - tag.utf16_start
    if length <= 0:
        return
    base: Entity = {"offset": tag.utf16_start, "length": length}
    if tag.name in _SIMPLE_TAGS or tag.name == "span":
        entities.append({"type": _SIMPLE_TAGS.get(tag.name, "spoiler"), **base})
    elif tag.name == "a":
        url = tag.argument.strip()
        match = re.fullmatch(r"tg://user\?id=(\d+)", url)
        if match:
            user = {"id": int(match.group(1)), "is_bot": False, "first_name": "User"}
            entities.append({"type": "text_mention", **base, "user": user})
        elif url:
            entities.append({"type": "text_link", **base, "url": url})
    elif tag.name == "tg-emoji":
        if tag.argument:
            entities.append({"type": "custom_emoji", **base, "custom_emoji_id": tag.argument})
    elif tag.name == "blockquote":
        kind = "expandable_blockquote" if tag.extra else "blockquote"
        entities.append({"type": kind, **base})
    elif tag.name == "pre":
        language = ""
        for k in range(len(entities) - 1, -1, -1):
            inner = entities[k]
            if (
                inner["type"] == "code"
                and inner["offset"] == tag.utf16_start
                and inner["length"] == length
            ):
                language = inner.pop("_language", "")
                del entities[k]
                break
        pre: Entity = {"type": "pre", **base}
        if language:
            pre["language"] = language
        entities.append(pre)
    elif tag.name == "code":
        code: Entity = {"type": "code", **base}
        if tag.argument and stack and stack[-1].name == "pre":
            code["_language"] = tag.argument
        entities.append(code)


def sort_entities(entities: list[Entity]) -> list[Entity]:
    """Order entities as Telegram does: by offset, longer (outer) first."""
    for entity in entities:
        entity.pop("_language", None)
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_MARKS = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
}
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
}


def parse_markdown_v2(text: str, legacy: bool = False) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2 into plain text and entities (UTF-16 offsets).

    ``legacy=True`` applies the old ``Markdown`` mode: only ``*bold* _italic_
    `code` ```pre``` [text](url)``, no reserved characters, no quotes.
    """
    marks = {"*": "bold", "_": "italic"} if legacy else _MDV2_MARKS
    out: list[str] = []
    offset = 0
    entities: list[Entity] = []
    stack: list[tuple[str, int, int]] = []
    byte_pos = [0]
    for ch in text:
        byte_pos.append(byte_pos[-1] + len(ch.encode("utf-8")))

    def emit(piece: str) -> None:
        nonlocal offset
        out.append(piece)
        offset += utf16_len(piece)

    i = 0
    n = len(text)
    line_start = True
    quote_start: int | None = None
    while i < n:
        ch = text[i]
        if line_start and ch == ">" and not stack and not legacy:
            if quote_start is None:
                quote_start = offset
            i += 1
            line_start = False
            continue
        if line_start and quote_start is not None:
            _close_quote(entities, quote_start, offset, out)
            quote_start = None
        line_start = False
        if ch == "\\" and i + 1 < n and ord(text[i + 1]) <= 126:
            emit(text[i + 1])
            i += 2
            continue
        if ch == "\n":
            emit(ch)
            line_start = True
            i += 1
            continue
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of Pre entity at byte offset {byte_pos[i]}"
                )
            body = text[i + 3 : end]
            language = ""
            if "\n" in body:
                first, rest = body.split("\n", 1)
                if first and " " not in first:
                    language, body = first, rest
            body = re.sub(r"\\([`\\])", r"\1", body)
            start = offset
            emit(body)
            if body:
                entity: Entity = {"type": "pre", "offset": start, "length": offset - start}
                if language:
                    entity["language"] = language
                entities.append(entity)
            i = end + 3
            continue
        if ch == "`":
            end = i + 1
            while end < n and text[end] != "`":
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                raise EntityParseError(
                    f"Can't find end of Code entity at byte offset {byte_pos[i]}"
                )
            body = re.sub(r"\\([`\\])", r"\1", text[i + 1 : end])
            start = offset
            emit(body)
            if body:
                entities.append({"type": "code", "offset": start, "length": offset - start})
            i = end + 1
            continue
        if ch == "[":
            stack.append(("link", offset, i))
            i += 1
            continue
        if ch == "]" and stack and stack[-1][0] == "link":
            _, start, begin = stack.pop()
            if not text.startswith("(", i + 1):
                raise EntityParseError(
                    f"Can't find end of TextUrl entity at byte offset {byte_pos[begin]}"
                )
            end = i + 2
            url_chars: list[str] = []
            while end < n and text[end] != ")":
                if text[end] == "\\" and end + 1 < n:
                    end += 1
                url_chars.append(text[end])
                end += 1
            if end >= n:
                raise EntityParseError(
                    f"Can't find end of TextUrl entity at byte offset {byte_pos[begin]}"
                )
            url = "".join(url_chars)
            if offset > start and url:
                entities.append(
                    {"type": "text_link", "offset": start, "length": offset - start, "url": url}
                )
            i = end + 1
            continue
        mark = text[i : i + 2] if text[i : i + 2] in ("__", "||") and not legacy else ch
        if mark in marks:
            kind = marks[mark]
            if stack and stack[-1][0] == kind:
                _, start, _begin = stack.pop()
                if offset > start:
                    entities.append({"type": kind, "offset": start, "length": offset - start})
            else:
                stack.append((kind, offset, i))
            i += len(mark)
            continue
        if ch in _MDV2_RESERVED and not legacy:
            raise EntityParseError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        emit(ch)
        i += 1
    if quote_start is not None:
        _close_quote(entities, quote_start, offset, out)
    if stack:
        kind, _, begin = stack[-1]
        name = "TextUrl" if kind == "link" else _MDV2_NAMES[kind]
        raise EntityParseError(f"Can't find end of {name} entity at byte offset {byte_pos[begin]}")
    return "".join(out), sort_entities(entities)


def _close_quote(entities: list[Entity], start: int, offset: int, out: list[str]) -> None:
    end = offset - (1 if out and out[-1] == "\n" else 0)
    if end > start:
        entities.append({"type": "blockquote", "offset": start, "length": end - start})


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim surrounding whitespace as Telegram does, keeping entities aligned."""
    stripped_left = text.lstrip()
    lead = utf16_len(text[: len(text) - len(stripped_left)])
    result = stripped_left.rstrip()
    total = utf16_len(result)
    fixed: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return result, fixed


def _utf16_index(text: str) -> list[int]:
    """Map every UTF-16 position to the Python index it starts (or ends) at."""
    positions: list[int] = []
    for index, ch in enumerate(text):
        positions.append(index)
        if ord(ch) > 0xFFFF:
            positions.append(index)
    positions.append(len(text))
    return positions


def render_entities(
    text: str,
    entities: list[Entity] | None,
    open_mark: Callable[[Entity], str],
    close_mark: Callable[[Entity], str],
    escape: Callable[[str], str] = lambda s: s,
) -> str:
    """Rebuild text with markers around entities (nested, outermost first)."""
    if not entities:
        return escape(text)
    index = _utf16_index(text)
    limit = len(index) - 1
    ordered = sort_entities([dict(e) for e in entities])
    opens: dict[int, list[Entity]] = {}
    for entity in ordered:
        start = index[min(entity["offset"], limit)]
        opens.setdefault(start, []).append(entity)
    pieces: list[str] = []
    open_stack: list[tuple[int, Entity]] = []
    for position in range(len(text) + 1):
        while open_stack and open_stack[-1][0] <= position:
            pieces.append(close_mark(open_stack.pop()[1]))
        for entity in opens.get(position, []):
            end = index[min(entity["offset"] + entity["length"], limit)]
            pieces.append(open_mark(entity))
            open_stack.append((end, entity))
        if position < len(text):
            pieces.append(escape(text[position]))
    while open_stack:
        pieces.append(close_mark(open_stack.pop()[1]))
    return "".join(pieces)


_HTML_OPEN = {
    "bold": "<b>",
    "italic": "<i>",
    "underline": "<u>",
    "strikethrough": "<s>",
    "spoiler": "<tg-spoiler>",
    "code": "<code>",
    "blockquote": "<blockquote>",
    "expandable_blockquote": "<blockquote expandable>",
}
_HTML_CLOSE = {
    "bold": "</b>",
    "italic": "</i>",
    "underline": "</u>",
    "strikethrough": "</s>",
    "spoiler": "</tg-spoiler>",
    "code": "</code>",
    "blockquote": "</blockquote>",
    "expandable_blockquote": "</blockquote>",
}


def _html_open(entity: Entity) -> str:
    kind = entity["type"]
    if kind == "text_link":
        return f'<a href="{_stdhtml.escape(entity["url"], quote=True)}">'
    if kind == "text_mention":
        return f'<a href="tg://user?id={entity["user"]["id"]}">'
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{entity["custom_emoji_id"]}">'
    if kind == "pre":
        language = entity.get("language")
        return f'<pre><code class="language-{language}">' if language else "<pre>"
    return _HTML_OPEN.get(kind, "")


def _html_close(entity: Entity) -> str:
    kind = entity["type"]
    if kind in ("text_link", "text_mention"):
        return "</a>"
    if kind == "custom_emoji":
        return "</tg-emoji>"
    if kind == "pre":
        return "</code></pre>" if entity.get("language") else "</pre>"
    return _HTML_CLOSE.get(kind, "")


def entities_to_html(text: str, entities: list[Entity] | None) -> str:
    """Render ``(text, entities)`` as Telegram HTML (round-trips through parse_html)."""
    return render_entities(
        text, entities, _html_open, _html_close, lambda s: _stdhtml.escape(s, quote=False)
    )


_COMMAND = re.compile(r"(?<![\w/])/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]{3,32})?(?![\w/@])")
_MENTION = re.compile(r"(?<![\w@])@[a-zA-Z0-9_]{5,32}\b")
_URL = re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")


def detect_entities(text: str) -> list[Entity]:
    """Entities Telegram finds by itself in user text: bot commands, mentions, URLs."""
    found: list[Entity] = []
    for pattern, kind in ((_COMMAND, "bot_command"), (_MENTION, "mention"), (_URL, "url")):
        for match in pattern.finditer(text):
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group(0)),
                }
            )
    return sort_entities(found)
