"""The /newpost dialogue: texts in each language, an attachment, link buttons, audiences,
fallbacks for languages without a text, the time, then submit (see bot/publishing/service)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import LANGUAGES, Settings
from bot.publishing import posts as svc
from bot.publishing import service as posts
from bot.publishing.callbacks import DraftAct
from bot.publishing.posts import Publisher, WhenError, language_name
from bot.publishing.render import SKIP
from bot.publishing.states import PostForm
from bot.shared.middlewares import UnitOfWork
from bot.shared.render import Button, Screenful
from bot.shared.tghtml import quote
from handlers.publishing.view import (
    errors_text,
    nobody_to_review,
    notify_reviewers,
    send_previews,
    summary,
    when_label,
)
from handlers.ui import send, show


def _cancel_button() -> Button:
    return Button(_("✖ Cancel"), DraftAct(action="cancel").pack())


def _skip_row() -> list[Button]:
    return [Button(_("Skip ›"), DraftAct(action="skip").pack()), _cancel_button()]


def text_step(lang: str) -> Screenful:
    step = LANGUAGES.index(lang) + 1
    return Screenful(
        _("<b>New post</b> · step {step} of 7\nSend the text in {language}. Formatting "
          "(bold, italics, links) is kept. If there is no {language} version, press Skip.")
        .format(step=step, language=language_name(lang)),
        [_skip_row()])


def media_step() -> Screenful:
    return Screenful(_("<b>New post</b> · step 4 of 7\nSend a photo or a document to attach "
                       "to the post, or press Skip."), [_skip_row()])


def buttons_step() -> Screenful:
    return Screenful(_(
        "<b>New post</b> · step 5 of 7\nLink buttons under the post: one per line, as\n"
        "<code>https://link | label</code> (the same label in every language) or\n"
        "<code>https://link | Kazakh label | Russian label | English label</code>.\n"
        "Or press Skip."), [_skip_row()])


def targets_step(audiences: posts.Audiences, draft: dict[str, Any]) -> Screenful:
    targets = draft["targets"]

    def mark(on: bool) -> str:
        return "✅ " if on else "▫️ "

    rows = [
        [Button(mark(targets["channels"]) + _("Channels ({count})").format(
            count=audiences.channels), DraftAct(action="target", value="channels").pack())],
        [Button(mark(targets["groups"]) + _("Groups ({count})").format(
            count=audiences.groups), DraftAct(action="target", value="groups").pack())],
        [Button(mark(code in targets["citizens"]) + _("Citizens: {language} ({count})").format(
            language=language_name(code), count=audiences.citizens.get(code, 0)),
            DraftAct(action="target", value=code).pack()) for code in LANGUAGES],
        [Button(_("Next ›"), DraftAct(action="next").pack()), _cancel_button()],
    ]
    return Screenful(_("<b>New post</b> · step 6 of 7\nWho should receive it? Press to "
                       "switch each audience on or off, then Next."), rows)


def fallback_step(draft: dict[str, Any], lang: str) -> Screenful:
    texts = draft["texts"]
    row = [Button(_("Skip that audience"), DraftAct(action="fallback", value=SKIP).pack())]
    row += [Button(_("Send {language}").format(language=language_name(code)),
                   DraftAct(action="fallback", value=code).pack())
            for code in LANGUAGES if texts.get(code)]
    return Screenful(_("There is no {language} text. What should the {language} audience "
                       "get?").format(language=language_name(lang)),
                     [row[:2], row[2:], [_cancel_button()]])


def when_step(settings: Settings) -> Screenful:
    return Screenful(_(
        "<b>New post</b> · step 7 of 7\nWhen should it go out? Press Now, or type a date and "
        "time ({zone}), for example <code>25.12.2026 10:00</code> or <code>tomorrow 9:30</code>, "
        "or a weekly rule such as <code>every Monday 10:00</code>.").format(
            zone=quote(settings.timezone)),
        [[Button(_("Now"), DraftAct(action="now").pack()), _cancel_button()]])


def confirm_step(draft: dict[str, Any], lang: str, settings: Settings,
                 role: str | None = None) -> Screenful:
    label = _("Submit for approval") if posts.needs_review(settings, role) else _("Schedule")
    return Screenful(_("<b>Ready.</b> Check the post:") + "\n" + summary(draft, lang, settings),
                     [[Button(label, DraftAct(action="submit").pack()), _cancel_button()]])


async def new_post(message: Message, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(PostForm.text)
    draft = {"texts": {}, "media": None, "buttons": None, "fallbacks": {},
             "targets": {"channels": False, "groups": False, "citizens": []},
             "send_at": None, "repeat": None}
    await state.update_data(draft=draft, lang=LANGUAGES[0])
    await send(message, text_step(LANGUAGES[0]))


async def cancel_draft(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, Screenful(_("Cancelled. Nothing was saved.")))
    await query.answer()


async def got_text(message: Message, state: FSMContext) -> None:
    if not message.text:
        await message.answer(_("I need text here: stickers, voice messages and files can't be "
                               "the text of a post. Send the text, or press Skip."))
        return
    if message.text.startswith("/"):
        await message.answer(_("You are writing a post. Send its text, or /cancel."))
        return
    data = await state.get_data()
    lang, draft = data["lang"], data["draft"]
    markup = message.html_text
    errors = svc.text_errors(markup, lang, with_media=False)
    if errors:
        await message.answer(errors_text(errors))
        return
    draft["texts"][lang] = markup
    await _after_text(message, state, draft, lang)


async def _after_text(target: Message, state: FSMContext, draft: dict[str, Any],
                      lang: str) -> None:
    index = LANGUAGES.index(lang)
    if index + 1 < len(LANGUAGES):
        nxt = LANGUAGES[index + 1]
        await state.update_data(draft=draft, lang=nxt)
        await send(target, text_step(nxt))
        return
    if not any(draft["texts"].values()):
        await state.update_data(draft=draft, lang=LANGUAGES[0])
        await target.answer(_("A post needs text in at least one language."))
        await send(target, text_step(LANGUAGES[0]))
        return
    await state.update_data(draft=draft)
    await state.set_state(PostForm.media)
    await send(target, media_step())


async def skip(query: CallbackQuery, state: FSMContext, uow: UnitOfWork) -> None:
    current = await state.get_state()
    data = await state.get_data()
    message = query.message
    await query.answer()
    if current is None or not isinstance(message, Message):
        return
    draft = data["draft"]
    if current == PostForm.text.state:
        await _after_text(message, state, draft, data["lang"])
    elif current == PostForm.media.state:
        draft["media"] = None
        await state.update_data(draft=draft)
        await state.set_state(PostForm.buttons)
        await send(message, buttons_step())
    elif current == PostForm.buttons.state:
        await state.set_state(PostForm.targets)
        await send(message, targets_step(await posts.audiences(uow.session), draft))


async def got_media(message: Message, state: FSMContext) -> None:
    if message.photo:
        media = {"type": "photo", "file_id": message.photo[-1].file_id}
    elif message.document:
        media = {"type": "document", "file_id": message.document.file_id}
    else:
        await message.answer(_("Send a photo or a document (other kinds of files can't be "
                               "attached), or press Skip."))
        return
    draft = (await state.get_data())["draft"]
    errors = [e for lang, text in draft["texts"].items() if text
              for e in svc.text_errors(text, lang, with_media=True)]
    if errors:
        await message.answer(errors_text(errors) + "\n" + _("Or press Skip to send it without "
                                                            "the attachment."))
        return
    draft["media"] = media
    await state.update_data(draft=draft)
    await state.set_state(PostForm.buttons)
    await send(message, buttons_step())


def parse_buttons(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    rows, errors = [], []
    for line in filter(None, (x.strip() for x in text.splitlines())):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 2:
            labels = dict.fromkeys(LANGUAGES, parts[1])
        elif len(parts) == 1 + len(LANGUAGES):
            labels = dict(zip(LANGUAGES, parts[1:], strict=True))
        else:
            errors.append(_("This line needs a link and one label or three labels, separated "
                            "by |: {line}").format(line=quote(line[:80])))
            continue
        errors.extend(svc.button_errors(parts[0], labels))
        rows.append({"url": parts[0], "labels": labels})
    if len(rows) > svc.MAX_BUTTONS:
        errors.append(_("At most {count} buttons.").format(count=svc.MAX_BUTTONS))
    if not rows and not errors:
        errors.append(_("Send at least one line, or press Skip."))
    return rows, errors


async def got_buttons(message: Message, state: FSMContext, uow: UnitOfWork) -> None:
    if not message.text or message.text.startswith("/"):
        await message.answer(_("Send the buttons as text, one per line, or press Skip."))
        return
    rows, errors = parse_buttons(message.text)
    if errors:
        await message.answer(errors_text(errors))
        return
    draft = (await state.get_data())["draft"]
    draft["buttons"] = {"rows": rows}
    await state.update_data(draft=draft)
    await state.set_state(PostForm.targets)
    await send(message, targets_step(await posts.audiences(uow.session), draft))


async def toggle_target(query: CallbackQuery, callback_data: DraftAct, state: FSMContext,
                        uow: UnitOfWork) -> None:
    draft = (await state.get_data())["draft"]
    targets, value = draft["targets"], callback_data.value
    if value in ("channels", "groups"):
        targets[value] = not targets[value]
    elif value in LANGUAGES:
        chosen = set(targets["citizens"]) ^ {value}
        targets["citizens"] = [c for c in LANGUAGES if c in chosen]
    await state.update_data(draft=draft)
    await show(query, targets_step(await posts.audiences(uow.session), draft))
    await query.answer()


async def targets_done(query: CallbackQuery, state: FSMContext, settings: Settings) -> None:
    draft = (await state.get_data())["draft"]
    t = draft["targets"]
    if not (t["channels"] or t["groups"] or t["citizens"]):
        await query.answer(_("Choose at least one audience: channels, groups or citizens."),
                           show_alert=True)
        return
    await query.answer()
    await _next_fallback(query, state, draft, settings)


async def _next_fallback(query: CallbackQuery, state: FSMContext, draft: dict[str, Any],
                         settings: Settings) -> None:
    draft["fallbacks"] = {k: v for k, v in draft["fallbacks"].items()
                          if k in svc.missing_languages(draft)}
    pending = [c for c in svc.missing_languages(draft) if c not in draft["fallbacks"]]
    await state.update_data(draft=draft)
    if pending:
        await state.set_state(PostForm.fallback)
        await state.update_data(lang=pending[0])
        await show(query, fallback_step(draft, pending[0]))
        return
    await state.set_state(PostForm.when)
    message = query.message
    if isinstance(message, Message) and query.bot:
        await show(query, Screenful(_("Here is how each audience will see the post:")))
        await send_previews(query.bot, message.chat.id, draft)
        await send(message, when_step(settings))


async def choose_fallback(query: CallbackQuery, callback_data: DraftAct, state: FSMContext,
                          settings: Settings) -> None:
    data = await state.get_data()
    draft, lang, choice = data["draft"], data["lang"], callback_data.value
    if choice != SKIP and not draft["texts"].get(choice):
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    draft["fallbacks"][lang] = choice
    await query.answer()
    await _next_fallback(query, state, draft, settings)


async def _to_confirm(target: Message, state: FSMContext, draft: dict[str, Any],
                      i18n: I18n, settings: Settings, role: str | None) -> None:
    errors = svc.validate(posts.draft_fields(draft), posts.now())
    if errors:
        await target.answer(errors_text(errors))
        return
    await state.update_data(draft=draft)
    await state.set_state(PostForm.confirm)
    await send(target, confirm_step(draft, i18n.current_locale, settings, role))


async def send_now(query: CallbackQuery, state: FSMContext, i18n: I18n,
                   settings: Settings, role: str | None = None) -> None:
    draft = (await state.get_data())["draft"]
    draft["send_at"], draft["repeat"] = None, None
    await query.answer()
    if isinstance(query.message, Message):
        await _to_confirm(query.message, state, draft, i18n, settings, role)


async def typed_when(message: Message, settings: Settings, hint: str) -> svc.When | None:
    """The time an editor typed, or None after telling them what is wrong (``hint`` when
    the message is not text at all)."""
    if not message.text or message.text.startswith("/"):
        await message.answer(hint)
        return None
    try:
        return svc.parse_when(message.text, settings.tz, posts.now())
    except WhenError as exc:
        await message.answer(str(exc))
        return None


async def got_when(message: Message, state: FSMContext, i18n: I18n, settings: Settings,
                   role: str | None = None) -> None:
    when = await typed_when(message, settings,
                            _("Type the date and time as text, or press Now."))
    if when is None:
        return
    draft = (await state.get_data())["draft"]
    draft["send_at"] = when.send_at.isoformat() if when.send_at else None
    draft["repeat"] = when.repeat
    await _to_confirm(message, state, draft, i18n, settings, role)


async def submit(query: CallbackQuery, state: FSMContext, uow: UnitOfWork, bot: Bot,
                 i18n: I18n, settings: Settings, publisher: Publisher,
                 role: str | None = None) -> None:
    draft = (await state.get_data())["draft"]
    done = await posts.submit(uow.session, settings, query.from_user.id, role, draft)
    await query.answer()
    if done.post is None:
        await state.set_state(PostForm.when)
        await show(query, Screenful(errors_text(done.errors)))
        return
    post = done.post
    await state.clear()
    if done.review:
        count = await notify_reviewers(bot, i18n, uow.session, settings, post, done.reviewers,
                                       query.from_user.full_name)
        text = _("Post #{id} is waiting for approval by another editor or an administrator.") \
            .format(id=post.id)
        if count == 0:
            text += "\n" + nobody_to_review()
        await show(query, Screenful(text))
        return
    uow.after_commit(lambda: publisher.schedule(post.id, recorded=True))
    text = _("Post #{id} is scheduled: {when}.").format(
        id=post.id, when=when_label(post.send_at, post.repeat, i18n.current_locale, settings))
    if done.self_approved:
        text = _("Your own post as an administrator is approved at once (recorded in the audit "
                 "log).") + "\n" + text
    await show(query, Screenful(text))


def create_router() -> Router:
    """The dialogue's steps (the /newpost command itself is on the posts router, ahead of
    every dialogue, so that it restarts one)."""
    router = Router(name=__name__)
    m, c = router.message, router.callback_query
    m.register(got_text, StateFilter(PostForm.text))
    m.register(got_media, StateFilter(PostForm.media))
    m.register(got_buttons, StateFilter(PostForm.buttons))
    m.register(got_when, StateFilter(PostForm.when))
    c.register(cancel_draft, DraftAct.filter(F.action == "cancel"))
    c.register(skip, DraftAct.filter(F.action == "skip"))
    c.register(toggle_target, DraftAct.filter(F.action == "target"), StateFilter(PostForm.targets))
    c.register(targets_done, DraftAct.filter(F.action == "next"), StateFilter(PostForm.targets))
    c.register(choose_fallback, DraftAct.filter(F.action == "fallback"),
               StateFilter(PostForm.fallback))
    c.register(send_now, DraftAct.filter(F.action == "now"), StateFilter(PostForm.when))
    c.register(submit, DraftAct.filter(F.action == "submit"), StateFilter(PostForm.confirm))
    return router
