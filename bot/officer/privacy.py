"""What the dialogue keeps about a person, in the /my_data and /forget_me registry."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy.registry import Context, PersonalData
from bot.shared.translation import gettext as _
from storage.models import Feedback, OfficerRequest
from storage.officer import DialogueRepo


async def _show_requests(ctx: Context, user_id: int) -> list[str]:
    rows = await ctx.session.execute(
        select(OfficerRequest.id, OfficerRequest.status).where(OfficerRequest.user_id == user_id)
        .order_by(OfficerRequest.id))
    return [_("Request #{number}: {status}").format(
        number=rid, status=_("open") if status == "open" else _("closed")) for rid, status in rows]


async def _show_feedback(ctx: Context, user_id: int) -> list[str]:
    rows = list(await ctx.session.scalars(select(Feedback.helpful).where(
        Feedback.user_id == user_id)))
    if not rows:
        return []
    return [_("👍 {up} · 👎 {down}").format(up=sum(rows), down=len(rows) - sum(rows))]


async def _show_questions(ctx: Context, user_id: int) -> list[str]:
    count = (await DialogueRepo(ctx.session).describe_user(user_id))["questions"]
    return [_("{count} questions asked").format(count=count)] if count else []


async def _erase_requests(session: AsyncSession, user_id: int) -> int:
    return await DialogueRepo(session).erase_requests(user_id)


async def _erase_feedback(session: AsyncSession, user_id: int) -> int:
    return await DialogueRepo(session).erase_feedback(user_id)


async def _unlink_questions(session: AsyncSession, user_id: int) -> int:
    return await DialogueRepo(session).unlink_questions(user_id)


def personal_data() -> list[PersonalData]:
    """One entry per kind, so the /forget_me report counts each under its own name. The
    copies of requests in the operators' group are Telegram's to delete: see
    :func:`bot.officer.desk.erase_copies`."""
    return [
        PersonalData("officer_requests", lambda: _("Requests to consular officers"),
                     _show_requests, _erase_requests),
        PersonalData("feedback", lambda: _("Your ratings of answers"),
                     _show_feedback, _erase_feedback),
        PersonalData("question_log", lambda: _("Questions you asked (for statistics)"),
                     _show_questions, _unlink_questions,
                     erased_label=lambda: _("Questions you asked, now counted without their "
                                            "text or your name")),
    ]
