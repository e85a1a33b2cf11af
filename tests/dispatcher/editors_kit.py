"""The editors' tests' pieces: who is who, and the dispatcher harness with a fake publisher."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from bot.factory import App
from bot.shared.roles import bootstrap_admins
from tests.kit import MembersSession, OfflineBot, make_settings
from tests.kit.doubles import FakePublisher

ADMIN = 1
EDITOR = 2
SECOND = 3
CITIZEN = 4

__all__ = ["ADMIN", "CITIZEN", "EDITOR", "SECOND", "FakePublisher", "Harness", "harness",
           "make_harness"]


class Harness(OfflineBot):
    """The dispatcher with the fake publisher; ``session`` answers membership questions."""

    session: MembersSession

    def __init__(self, app: App, session: MembersSession, publisher: FakePublisher) -> None:
        super().__init__(app, session)
        self.publisher = publisher
        self.dp["publisher"] = publisher


async def make_harness(db_url: str, **settings: Any) -> Harness:
    # People in these tests read English; notices to others use DEFAULT_LANGUAGE.
    settings = {"default_language": "en", **settings}
    app = await App.create(make_settings(db_url, admin_ids=(ADMIN,), **settings))
    harness = Harness(app, MembersSession(), FakePublisher())
    await bootstrap_admins(app.session_factory, app.settings)
    return harness


@pytest_asyncio.fixture
async def harness(db_url: str) -> AsyncIterator[Harness]:
    h = await make_harness(db_url)
    yield h
    await h.app.close()
