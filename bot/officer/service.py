"""What the officer handlers call: one method per step of a request, over the update's
session (it flushes, the unit of work commits) and the desk that talks to Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.officer.desk import Draft, OfficerDesk
from bot.shared import audit
from storage.feedback import QuestionLogRepo
from storage.officer import DialogueRepo, RequestDTO

Request = RequestDTO  # what the handlers render


class Refusal(Enum):
    NOT_YOURS = "not_yours"
    CLOSED = "closed"
    TOO_MANY = "too_many"
    TOO_LATE = "too_late"
    UNCOPYABLE = "uncopyable"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Opening:
    """Where /officer starts: ``full`` lists the person's open requests when they already
    have the most they may; else the question it came from, if it is theirs."""

    full: list[Request]
    question_id: int = 0
    topic: str | None = None
    country: str | None = None


class Requests:
    def __init__(self, session: AsyncSession, desk: OfficerDesk) -> None:
        self.session, self.desk = session, desk
        self.repo, self.questions = DialogueRepo(session), QuestionLogRepo(session)

    async def full(self, user_id: int) -> list[Request]:
        """The person's open requests if they may not open another (OFFICER_MAX_OPEN), else
        nothing: the one place the limit is decided."""
        open_ = await self.repo.open_requests(user_id)
        return open_ if len(open_) >= self.desk.settings.officer_max_open else []

    async def begin(self, user_id: int, question_id: int) -> Opening:
        full = await self.full(user_id)
        if full:
            return Opening(full)
        question = await self.questions.question(question_id) if question_id else None
        if question is None or question.user_id != user_id:
            return Opening([])
        return Opening([], question_id, question.topic, question.country)

    async def submit(self, user_id: int, draft: Draft) -> Request | list[Request]:
        """The new request, or the open ones that leave no room for it; raises
        :class:`bot.officer.desk.RequestError` when the operators' group refuses it."""
        full = await self.full(user_id)
        if full:
            return full
        question = await self.questions.question(draft.question_id) if draft.question_id else None
        return await self.desk.open(self.repo, user_id, draft,
                                    question.text if question else None)

    async def _own(self, request_id: int, user_id: int) -> Request | Refusal:
        req = await self.repo.get_request(request_id)
        return req if req is not None and req.user_id == user_id else Refusal.NOT_YOURS

    async def citizen_wrote(self, request_id: int | None, message: Message) -> Refusal | None:
        req = await self._own(request_id, message.chat.id) if request_id else Refusal.CLOSED
        if isinstance(req, Refusal) or not req.is_open:
            return Refusal.CLOSED
        if not await self.desk.citizen_wrote(self.repo, req, message):
            return Refusal.UNCOPYABLE
        return None

    async def talk(self, request_id: int, user_id: int) -> Request | Refusal:
        req = await self._own(request_id, user_id)
        if isinstance(req, Request) and not req.is_open:
            return Refusal.CLOSED
        return req

    async def rate(self, request_id: int, user_id: int, stars: str) -> bool:
        req = await self._own(request_id, user_id)
        if isinstance(req, Refusal) or req.is_open or stars not in {"1", "2", "3", "4", "5"}:
            return False
        await self.repo.rate(req.id, int(stars))
        return True

    async def reopen(self, request_id: int, user_id: int) -> Request | Refusal:
        req = await self._own(request_id, user_id)
        if isinstance(req, Refusal):
            return req
        if await self.full(user_id):
            return Refusal.TOO_MANY
        if not await self.desk.reopen(self.repo, req):
            return Refusal.TOO_LATE
        return req

    # --- the operators' group ------------------------------------------------------------

    async def in_topic(self, message: Message) -> Request | None:
        if message.message_thread_id is None or not message.is_topic_message:
            return None
        return await self.repo.by_thread(message.chat.id, message.message_thread_id)

    async def officer_wrote(self, message: Message) -> Refusal | None:
        """``UNKNOWN``: not a request's topic (nothing to say); ``CLOSED``: nothing passed on."""
        req = await self.in_topic(message)
        if req is None:
            return Refusal.UNKNOWN
        if not req.is_open:
            return Refusal.CLOSED
        await self.desk.officer_wrote(self.repo, req, message)
        return None

    async def send_answer(self, message: Message, slug: str) -> Refusal | None:
        req = await self.in_topic(message)
        if req is None:
            return Refusal.UNKNOWN
        officer = message.from_user.id if message.from_user else None
        if not await self.desk.send_answer(self.repo, req, slug, officer):
            return Refusal.CLOSED
        return None

    async def close(self, request_id: int) -> bool | None:
        """True: closed now; False: it already was; None: not a request of this desk."""
        req = await self.repo.get_request(request_id)
        if req is None or req.chat_id != self.desk.settings.operators_chat_id:
            return None
        return await self.desk.close(self.repo, req)

    async def refused(self, message: Message, is_answer: bool) -> None:
        """Someone who is not an operator wrote in a request's topic, or tried /answer: the
        audit log gets the attempt; chatter elsewhere is left alone."""
        req = await self.in_topic(message)
        if req is None and not is_answer:
            return
        user = message.from_user
        await audit.record(self.session, user.id if user else None,
                           audit.Action.REQUEST_ANSWER if is_answer
                           else audit.Action.REQUEST_REPLY,
                           f"request:{req.id}" if req else f"chat:{message.chat.id}",
                           allowed=False, reason="not an operator")
