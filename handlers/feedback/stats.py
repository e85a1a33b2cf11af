"""/stats for editors and administrators: charts for 7, 30 or 90 days; /stats export: CSV."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InaccessibleMessage, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.answers.store import ContentStore
from bot.config import Settings
from bot.feedback.callbacks import PERIODS, StatsPeriod
from bot.feedback.stats import ChartDrawer, for_staff, may_see, to_csv
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful
from handlers.ui import send

DEFAULT_EXPORT_DAYS = 30


async def stats(message: Message, command: CommandObject, uow: UnitOfWork,
                settings: Settings) -> None:
    user_id = message.from_user.id if message.from_user else 0
    args = (command.args or "").split()
    if not args or args[0].lower() != "export":
        if not await may_see(uow.session, settings, user_id):
            await message.answer(_("Statistics are for editors only."))
            return
        rows = [[Button(_("{days} days").format(days=d), StatsPeriod(days=d).pack())
                 for d in PERIODS]]
        await send(message, Screenful(_("Statistics: choose the period."), rows))
        return
    days = int(args[1]) if len(args) > 1 and args[1] in {str(p) for p in PERIODS} \
        else DEFAULT_EXPORT_DAYS
    data = await for_staff(uow.session, settings, user_id, days)
    if data is None:
        await message.answer(_("Statistics are for editors only."))
        return
    for name, payload in to_csv(data).items():
        await message.answer_document(BufferedInputFile(payload, filename=name))
    await message.answer(_("The numbers of the last {days} days, one CSV file per chart.")
                         .format(days=days))


async def period(query: CallbackQuery, callback_data: StatsPeriod, uow: UnitOfWork,
                 settings: Settings, store: ContentStore, i18n: I18n,
                 charts: ChartDrawer) -> None:
    data = await for_staff(uow.session, settings, query.from_user.id, callback_data.days)
    if data is None:
        await query.answer(_("Statistics are for editors only."), show_alert=True)
        return
    await query.answer(_("Drawing the charts…"))
    message = query.message
    if message is None or isinstance(message, InaccessibleMessage):
        return
    lang = i18n.current_locale
    topics = {s: t.title.get(lang) for s, t in store.topics.items()}
    countries = {iso: store.country_name(iso, lang) for iso in store.countries}
    drawn = await charts.draw(lang, data, topics, countries, settings.officer_sla_hours)
    for chart in drawn:
        await message.answer_photo(BufferedInputFile(chart.png, filename=f"{chart.key}.png"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(stats, Command("stats"))
    router.callback_query.register(period, StatsPeriod.filter())
    return router
