"""What the dialogue keeps about a person, in the /my_data and /forget_me registry."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy.registry import Context, PersonalData
from bot.shared.translation import gettext as _
from storage.feedback import FeedbackRepo, QuestionLogRepo
from storage.officer import DialogueRepo


async def _show_requests(ctx: Context, user_id: int) -> list[str]:
    return [_("Request #{number}: {status}").format(
        number=rid, status=_("open") if status == "open" else _("closed"))
        for rid, status in await DialogueRepo(ctx.session).statuses(user_id)]


async def _show_feedback(ctx: Context, user_id: int) -> list[str]:
    votes = await FeedbackRepo(ctx.session).votes_of(user_id)
    if not votes:
        return []
    return [_("👍 {up} · 👎 {down}").format(up=sum(votes), down=len(votes) - sum(votes))]


async def _show_questions(ctx: Context, user_id: int) -> list[str]:
    count = await QuestionLogRepo(ctx.session).count_for(user_id)
    return [_("{count} questions asked").format(count=count)] if count else []


async def _erase_requests(session: AsyncSession, user_id: int) -> int:
    return await DialogueRepo(session).erase_requests(user_id)


async def _erase_feedback(session: AsyncSession, user_id: int) -> int:
    return await FeedbackRepo(session).erase(user_id)


async def _unlink_questions(session: AsyncSession, user_id: int) -> int:
    return await QuestionLogRepo(session).unlink(user_id)


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
