"""``/case`` in the operators' group: show a case, create one, or change its status.

The operators' language is set by the handler's middleware; the reply is the desk card,
or what is wrong with the command.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.answers.store import ContentStore
from bot.cases import service
from bot.cases.service import CaseInput
from bot.config import LANGUAGES, Settings
from bot.shared import audit
from bot.shared.audit import Action
from bot.shared.tghtml import quote
from bot.shared.translation import gettext as _
from storage.cases import CaseRepo
from storage.models.base import utcnow

USAGE = ("/case NUMBER · /case NUMBER status STATUS [note] · "
         "/case NUMBER new SERVICE MISSION dob=YYYY-MM-DD|doc4=NNNN LANG")


@dataclass(frozen=True)
class DeskReply:
    """``card`` False: ``text`` says what is wrong (a reply to the command). ``created``:
    the command carried the citizen's second factor, and should not stay in the chat."""

    text: str
    card: bool = True
    created: bool = False
    notices: int = 0


def usage() -> str:
    return _("Usage: {usage}\nStatuses: {statuses}\nServices: {services}").format(
        usage=quote(USAGE), statuses=", ".join(service.STATUSES),
        services=", ".join(service.SERVICES))


def _wrong(text: str) -> DeskReply:
    return DeskReply(text, card=False)


def parse_new(args: list[str], store: ContentStore, number: str) -> CaseInput | str:
    """``SERVICE MISSION dob=…|doc4=… LANG``: the new case, or what is wrong with it."""
    if len(args) != 4:
        return usage()
    kind_service, mission_text, factor_text, lang = args[0].lower(), args[1], args[2], args[3]
    if kind_service not in service.SERVICES:
        return _("Unknown service “{value}”. Services: {known}").format(
            value=quote(kind_service), known=", ".join(service.SERVICES))
    mission = service.parse_mission(store, mission_text)
    if mission is None:
        return _("Unknown mission “{value}”: use a mission id from content/countries, such as "
                 "de-berlin.").format(value=quote(mission_text))
    kind, _sep, value = factor_text.partition("=")
    secret = service.normalize_factor(kind.lower(), value)
    if secret is None:
        return _("The second factor is dob=YYYY-MM-DD or doc4=NNNN.")
    if lang.lower() not in LANGUAGES:
        return _("The language is kk, ru or en.")
    return CaseInput(number, kind_service, mission[0], mission[1], "received", kind.lower(),
                     secret, lang.lower())


async def command(session: AsyncSession, store: ContentStore, settings: Settings, args: str,
                  actor: int | None, now: datetime | None = None) -> DeskReply:
    words = args.split()
    number = service.normalize_number(words[0]) if words else None
    if number is None:
        return _wrong(usage())
    repo = CaseRepo(session)
    case = await repo.by_number(number)
    now = now or utcnow()
    created, notices = False, 0
    if len(words) == 1:
        if case is None:
            return _wrong(_("No case {number}.").format(number=quote(number)))
    elif words[1].lower() == "new":
        if case is not None:
            return _wrong(_("Case {number} already exists.").format(number=quote(number)))
        parsed = parse_new(words[2:], store, number)
        if isinstance(parsed, str):
            return _wrong(parsed)
        case = (await service.apply(repo, parsed, None, "desk", now)).case
        await audit.record(session, actor, Action.CASE_CREATED, f"case:{case.id}")
        created = True
    elif words[1].lower() == "status" and len(words) >= 3:
        status = words[2].lower()
        if case is None:
            return _wrong(_("No case {number}.").format(number=quote(number)))
        if status not in service.STATUSES:
            return _wrong(_("Unknown status “{value}”. Statuses: {known}").format(
                value=quote(status), known=", ".join(service.STATUSES)))
        note = " ".join(args.split(maxsplit=3)[3:]).strip() or None
        change = await service.set_status(repo, case, status,
                                          note[:service.NOTE_CHARS] if note else None, now,
                                          "desk")
        case, notices = change.case, change.notices
        await audit.record(session, actor, Action.CASE_STATUS, f"case:{case.id}",
                           status=status, changed=change.step is not None)
    else:
        return _wrong(usage())
    card = service.desk_card(store, case, await repo.steps(case.id),
                             len(await repo.followers(case.id)), settings.desk_language,
                             settings.tz)
    if notices:
        card += "\n" + _("Followers to be told: {count}.").format(count=notices)
    return DeskReply(card, created=created, notices=notices)
