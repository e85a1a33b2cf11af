"""Groups that receive travel alerts: membership, language and followed countries.

Called in an update with the unit of work's session (these flush; the middleware commits).
Telegram's own questions (is the person an administrator?) stay with the handlers.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.answers.language import detect_language
from bot.config import LANGUAGES
from bot.shared.i18n import language_from_telegram
from bot.shared.textnorm import KK_LETTERS
from storage.travel.travellers import GroupDTO, GroupRepo

MAX_GROUP_COUNTRIES = 20


def likely_language(title: str | None, adder_code: str | None, default: str) -> str:
    """Kazakh letters in the title → kk; another Cyrillic title → its language; else the
    language of the person who added the bot."""
    text = title or ""
    if any(ch in KK_LETTERS for ch in text.lower()):
        return "kk"
    if any("а" <= ch.lower() <= "я" for ch in text):
        return detect_language(text)
    return language_from_telegram(adder_code, default)


def group_lang(group: GroupDTO | None, fallback: str) -> str:
    return group.languages[0] if group and group.languages else fallback


class Membership(StrEnum):
    """What happened to the bot's membership, as the handler read it from Telegram."""

    REMOVED = "removed from the group"
    MUTED = "may not post in the group"
    CHANGED = "changed"  # still a member: the right to post may have come back
    ADDED = "added"


async def membership(session: AsyncSession, chat_id: int, kind: str, title: str | None,
                     change: Membership, lang: str, adder: int) -> GroupDTO | None:
    """Record the change; the group to introduce the bot to (just added), else None."""
    repo = GroupRepo(session)
    if change in (Membership.REMOVED, Membership.MUTED):
        await repo.deactivate(chat_id, change.value)
        return None
    existing = await repo.get(chat_id)
    if change == Membership.CHANGED:
        if existing and not existing.active:
            await repo.joined(chat_id, kind, title, group_lang(existing, "kk"), None)
        return None
    return await repo.joined(chat_id, kind, title,
                             ",".join(existing.languages) if existing else lang, adder)


async def cannot_post(session: AsyncSession, chat_id: int) -> None:
    await GroupRepo(session).deactivate(chat_id, Membership.MUTED.value)


async def migrate(session: AsyncSession, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its settings move to the new chat id."""
    await GroupRepo(session).migrate(old_chat_id, new_chat_id)


async def get(session: AsyncSession, chat_id: int) -> GroupDTO | None:
    return await GroupRepo(session).get(chat_id)


async def group_or_join(session: AsyncSession, chat_id: int, kind: str, title: str | None,
                        default: str) -> GroupDTO:
    """The group's settings; a group the bot never saw join is recorded now."""
    repo = GroupRepo(session)
    group = await repo.get(chat_id)
    if group is None:
        group = await repo.joined(chat_id, kind, title,
                                  likely_language(title, None, default), None)
    return group


async def add_country(session: AsyncSession, group: GroupDTO, iso: str) -> bool:
    """False: the group follows MAX_GROUP_COUNTRIES already."""
    if len(group.countries) >= MAX_GROUP_COUNTRIES:
        return False
    await GroupRepo(session).set_countries(group.chat_id, [*group.countries, iso])
    return True


async def follow_from_card(session: AsyncSession, chat_id: int, kind: str, title: str | None,
                           iso: str) -> None:
    """"Follow alerts" pressed on a country card in the group (the bot may be unrecorded)."""
    repo = GroupRepo(session)
    group = await repo.get(chat_id)
    countries = list(group.countries) if group else []
    if group is None:
        await repo.joined(chat_id, kind, title, "kk", None)
    if iso not in countries:
        await repo.set_countries(chat_id, [*countries, iso])


class Setting(StrEnum):
    GONE = "gone"  # the group is unknown: the button is out of date
    LAST_LANGUAGE = "last_language"  # the group needs at least one language
    SAVED = "saved"


async def change_setting(session: AsyncSession, chat_id: int, action: str,
                         value: str) -> tuple[Setting, GroupDTO | None]:
    """A settings button: toggle a language (``lang``) or stop a country (``drop``)."""
    repo = GroupRepo(session)
    group = await repo.get(chat_id)
    if group is None:
        return Setting.GONE, None
    if action == "lang" and value in LANGUAGES:
        langs = [x for x in group.languages if x != value] if value in group.languages \
            else [*group.languages, value]
        if not langs:
            return Setting.LAST_LANGUAGE, group
        await repo.set_language(chat_id, ",".join(x for x in LANGUAGES if x in langs))
    elif action == "drop":
        await repo.set_countries(chat_id, [c for c in group.countries if c != value])
    return Setting.SAVED, await repo.get(chat_id)


__all__ = ["MAX_GROUP_COUNTRIES", "GroupDTO", "Membership", "Setting", "add_country",
           "cannot_post", "change_setting", "follow_from_card", "get", "group_lang",
           "group_or_join", "likely_language", "membership", "migrate"]
