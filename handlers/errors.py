"""The last line of defence: log the failure, tell the person kindly, keep running."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)


async def on_error(event: ErrorEvent) -> bool:
    log.exception("update %s failed", event.update.update_id, exc_info=event.exception)
    update = event.update
    try:
        text = _("Sorry, something went wrong on my side. Please try again in a moment.")
        if update.message:
            await update.message.answer(text)
        elif update.callback_query:
            await update.callback_query.answer(text, show_alert=True)
    except Exception:
        log.warning("could not tell the person about the failure", exc_info=True)
    return True


def create_router() -> Router:
    router = Router(name=__name__)
    router.error.register(on_error)
    return router
