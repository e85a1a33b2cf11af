"""👍 / 👎 under every topic answer, and what was missing when it did not help."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.answers.service import Kind, Reply
from bot.config import Settings
from bot.feedback.callbacks import REASONS, Vote
from bot.feedback.question_log import QuestionLogBuffer
from bot.officer.callbacks import OfficerCb
from bot.shared.render import Button, Screenful
from bot.shared.textnorm import READ_CHARS
from bot.shared.translation import gettext as _
from bot.shared.translation import use_language
from storage.feedback import FeedbackRepo, QuestionLogRepo

COMMENT_CHARS = 1000


def reason_label(reason: str) -> str:
    return {
        "wrong_topic": _("❓ Wrong topic"),
        "outdated": _("🕰 Outdated"),
        "detail": _("🔍 Not enough detail"),
        "other": _("✏️ Something else"),
    }[reason]


def officer_button(question_id: int) -> Button:
    return Button(_("This did not help — ask an officer"),
                  OfficerCb(action="new", rid=question_id).pack())


def feedback_row(question_id: int) -> list[Button]:
    return [Button("👍", Vote(qid=question_id, v="up").pack()),
            Button("👎", Vote(qid=question_id, v="down").pack())]


def with_feedback(screen: Screenful, question_id: int, *, officer: bool) -> Screenful:
    """The answer's own buttons, then 👍/👎 and (if officers are reachable) the way to one.

    Rendered in the current locale, which the caller sets to the answer's language.
    """
    rows = [*screen.buttons, feedback_row(question_id)]
    if officer:
        rows.append([officer_button(question_id)])
    return Screenful(screen.html, rows)


def with_officer(screen: Screenful, question_id: int) -> Screenful:
    return Screenful(screen.html, [*screen.buttons, [officer_button(question_id)]])


def reasons_screen(question_id: int) -> Screenful:
    rows = [[Button(reason_label(r), Vote(qid=question_id, v=r).pack())] for r in REASONS]
    return Screenful(_("Sorry it did not help. What was missing?"), rows)


async def logged_reply(question_log: QuestionLogBuffer, message: Message, reply: Reply,
                       text: str, settings: Settings) -> Screenful:
    """Log the question for statistics and put the feedback buttons under a topic answer
    (and the way to an officer under an answer or a "don't know"), in the reply's language."""
    user_id = message.from_user.id if message.from_user else None
    topic = reply.analysis.topic if reply.kind == Kind.ANSWER else None
    qid = await question_log.add(
        user_id, reply.lang, reply.kind.value, topic, reply.analysis.country,
        text[:READ_CHARS])
    officer = settings.operators_chat_id is not None
    with use_language(reply.lang):
        if reply.kind == Kind.ANSWER:
            return with_feedback(reply.screen, qid, officer=officer)
        if reply.kind == Kind.UNKNOWN and officer:
            return with_officer(reply.screen, qid)
    return reply.screen


class Verdict(Enum):
    INVALID = "invalid"  # not the person's answer, or a reason without a 👎 before it
    ALREADY = "already"  # a second 👍/👎 on the same answer
    COUNTED = "counted"


@dataclass(frozen=True)
class Voted:
    verdict: Verdict
    question_id: int = 0
    feedback_id: int = 0


async def vote(session: AsyncSession, user_id: int, question_id: int, choice: str) -> Voted:
    """👍 (``up``), 👎 (``down``) or, after a 👎, what was missing (a reason)."""
    repo = FeedbackRepo(session)
    question = await QuestionLogRepo(session).question(question_id)
    if question is None or question.user_id != user_id:
        return Voted(Verdict.INVALID)
    if choice in ("up", "down"):
        if await repo.vote(question, choice == "up") is None:
            return Voted(Verdict.ALREADY, question.id)
        return Voted(Verdict.COUNTED, question.id)
    feedback = await repo.feedback_for(question.id)
    if feedback is None or feedback.helpful or feedback.reason:
        return Voted(Verdict.ALREADY, question.id)
    await repo.set_reason(feedback.id, choice)
    return Voted(Verdict.COUNTED, question.id, feedback.id)


async def comment(session: AsyncSession, feedback_id: int, text: str) -> None:
    """What the person typed after "✏️ Something else"."""
    await FeedbackRepo(session).set_comment(feedback_id, text[:COMMENT_CHARS])
