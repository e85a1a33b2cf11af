"""Routers by audience. Parent routers carry the filters; modules stay filter-free."""

from __future__ import annotations

from aiogram import Router
from aiogram.enums import ChatType as Kind

from bot.shared.filters import ChatType, CommandText, NoState, PlainText
from handlers import (
    appointments,
    cases,
    common,
    errors,
    fallback,
    navigation,
    officer,
    places,
    privacy,
)
from handlers.answers import inline, questions
from handlers.feedback import stats
from handlers.feedback import votes as feedback
from handlers.publishing import editors, subscriptions
from handlers.travel import advice, alerts, trips
from handlers.travel import groups as in_groups


def create_root_router() -> Router:
    """A fresh router tree, so every dispatcher (and every test) gets its own."""
    private = Router(name="private")
    private.message.filter(ChatType(Kind.PRIVATE))
    private.callback_query.filter(ChatType(Kind.PRIVATE))
    # Most traffic is a question typed outside any dialogue: it goes straight to the
    # answering router instead of being offered to every command and dialogue step first.
    asking = Router(name="asking")
    asking.message.filter(PlainText(), NoState())
    asking.include_router(questions.create_router())
    private.include_routers(
        asking,
        editors.create_staff_router(),
        editors.create_refusals_router(),
        common.create_router(),
        trips.create_router(),
        alerts.create_router(),
        privacy.create_router(),
        navigation.create_router(),
        places.create_router(),
        advice.create_router(),
        officer.create_router(),
        cases.create_router(),
        appointments.create_router(),
        feedback.create_router(),
        stats.create_router(),
        subscriptions.create_router(),
        questions.create_router(),  # text sent in a dialogue step that did not take it
        questions.create_choice_router(),
        fallback.create_router(),
    )
    root = Router(name="root")
    operators = Router(name="operators")
    operators.message.filter(officer.InOperatorsChat())
    operators.callback_query.filter(officer.InOperatorsChat())
    # /case first: the officer desk's router takes every other operator message
    operators.include_routers(cases.create_operators_router(),
                              appointments.create_operators_router(),
                              officer.create_operators_router())
    groups = Router(name="groups")
    groups.message.filter(ChatType(Kind.GROUP, Kind.SUPERGROUP), CommandText())
    groups.include_routers(subscriptions.create_group_router(), in_groups.create_command_router())
    group_talk = Router(name="group_talk")
    group_talk.message.filter(ChatType(Kind.GROUP, Kind.SUPERGROUP))
    group_talk.callback_query.filter(ChatType(Kind.GROUP, Kind.SUPERGROUP))
    group_talk.include_router(in_groups.create_router())
    root.include_routers(private, operators, groups, group_talk, inline.create_router(),
                         fallback.create_unanswered_router(), errors.create_router())
    return root
