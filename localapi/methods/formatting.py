"""Reading a message's text, entities and reply markup from the request, as Telegram checks
them (the HTML and MarkdownV2 parsers themselves are in :mod:`localapi.html`)."""

from __future__ import annotations

from typing import Any

from ..html import EntityParseError, parse_html, parse_markdown_v2, strip_text, utf16_len
from ..records import JSON, bad_request
from ..state import Params

MAX_TEXT = 4096
MAX_CAPTION = 1024
NO_TEXT_BUTTONS = (
    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)


def formatted(
    p: Params, text_key: str, entities_key: str, limit: int, *, required: bool
) -> tuple[str, list[JSON]]:
    raw = p.str(text_key, "") or ""
    mode = (p.str("parse_mode", "") or "").lower()
    entities: list[JSON] = []
    try:
        if not raw:
            text = ""
        elif mode == "html":
            text, entities = parse_html(raw)
        elif mode == "markdownv2":
            text, entities = parse_markdown_v2(raw)
        elif mode == "markdown":
            text, entities = parse_markdown_v2(raw, legacy=True)
        elif mode:
            raise bad_request("unsupported parse_mode")
        else:
            text = raw
            given = p.json(entities_key)
            if given:
                entities = check_entities(given, raw)
    except EntityParseError as error:
        raise bad_request(f"can't parse entities: {error}") from None
    text, entities = strip_text(text, entities)
    if required and not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > limit:
        raise bad_request(
            "message is too long" if limit == MAX_TEXT else "message caption is too long"
        )
    return text, entities


def formatted_caption(p: Params) -> tuple[str, list[JSON]]:
    """The optional ``caption`` and its ``caption_entities``."""
    return formatted(p, "caption", "caption_entities", MAX_CAPTION, required=False)


def check_entities(given: Any, text: str) -> list[JSON]:
    if not isinstance(given, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    checked: list[JSON] = []
    for entity in given:
        if not isinstance(entity, dict) or "type" not in entity:
            raise bad_request('can\'t parse MessageEntity: Field "type" must be of type String')
        offset, length = int(entity.get("offset", 0)), int(entity.get("length", 0))
        if length <= 0 or offset < 0 or offset >= total:
            continue
        clean = {k: v for k, v in entity.items() if v is not None}
        clean["offset"], clean["length"] = offset, min(length, total - offset)
        checked.append(clean)
    return checked


def markup(p: Params) -> tuple[str, JSON] | None:
    """The reply markup as ``(kind, value)``: inline, reply, remove or force; or None."""
    value = p.json("reply_markup")
    if not value:
        return None
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        return "inline", {"inline_keyboard": _inline_rows(value["inline_keyboard"])}
    if "keyboard" in value:
        return "reply", value
    if value.get("remove_keyboard"):
        return "remove", value
    if value.get("force_reply"):
        return "force", value
    raise bad_request("can't parse reply keyboard markup JSON object")


def _inline_rows(rows: Any) -> list[list[JSON]]:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request(
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
        )
    clean_rows: list[list[JSON]] = []
    for row in rows:
        clean_row: list[JSON] = []
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request(NO_TEXT_BUTTONS)
            button = {k: v for k, v in button.items() if v is not None}
            actions = [k for k in button if k != "text"]
            if not actions:
                raise bad_request(NO_TEXT_BUTTONS)
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise bad_request(
                    f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL"
                )
            clean_row.append(button)
        clean_rows.append(clean_row)
    return clean_rows
