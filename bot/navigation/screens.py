"""Menu screens: main menu, topic lists, country pages A–Z, language, help, contact."""

from __future__ import annotations

from bot.answers.callbacks import CountryCard, TopicCard
from bot.answers.content import Section
from bot.answers.store import ContentStore, first_letter
from bot.appointments.callbacks import BookCb
from bot.cases.callbacks import CaseCb
from bot.config import LANGUAGE_NAMES
from bot.navigation.callbacks import Nav, Screen, SetLanguage
from bot.officer.callbacks import OfficerCb
from bot.publishing.callbacks import News
from bot.shared.render import Button, Screenful, flag
from bot.shared.translation import gettext as _
from bot.travel.callbacks import TravelMenu

TOPICS_PER_PAGE = 8
COUNTRIES_PER_PAGE = 12
LANGUAGE_BUTTONS = {code: f"{flag} {LANGUAGE_NAMES[code]}"
                    for code, flag in (("kk", "🇰🇿"), ("ru", "🇷🇺"), ("en", "🇬🇧"))}
MFA_URL = "https://www.gov.kz/memleket/entities/mfa"


def _menu_button() -> Button:
    return Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack())


def main_menu(greeting: str | None = None) -> Screenful:
    text = _("What would you like to know? Choose a section or simply type your question.")
    if greeting:
        text = f"{greeting}\n\n{text}"
    return Screenful(text, [
        [Button(_("🛂 Consular services"), Nav(screen=Screen.CONSULAR).pack())],
        [Button(_("🌍 Countries"), Nav(screen=Screen.COUNTRIES).pack()),
         Button(_("🇰🇿 About Kazakhstan"), Nav(screen=Screen.ABOUT).pack())],
        [Button(_("📰 Ministry news"), News(action="open").pack())],
        [Button(_("✈️ My trips"), TravelMenu(screen="trips").pack()),
         Button(_("🔔 Alerts"), TravelMenu(screen="alerts").pack())],
        [Button(_("✍️ Ask a consular officer"), OfficerCb(action="new").pack())],
        [Button(_("📄 My case"), CaseCb(action="open").pack())],
        [Button(_("📅 Book a visit"), BookCb(action="start").pack())],
        [Button(_("🗣 Language"), Nav(screen=Screen.LANGUAGE).pack()),
         Button(_("❓ Help"), Nav(screen=Screen.HELP).pack())],
    ])


def _pager(screen: Screen, page: int, pages: int, labels: list[str] | None = None) -> list[Button]:
    row = []
    if page > 0:
        label = labels[page - 1] if labels else _("‹ Previous")
        row.append(Button(f"‹ {label}" if labels else label,
                          Nav(screen=screen, page=page - 1).pack()))
    if pages > 1:
        row.append(Button(_("{page} of {pages}").format(page=page + 1, pages=pages),
                          Nav(screen=screen, page=page).pack()))
    if page < pages - 1:
        label = labels[page + 1] if labels else _("Next ›")
        row.append(Button(f"{label} ›" if labels else label,
                          Nav(screen=screen, page=page + 1).pack()))
    return row


def topic_list(store: ContentStore, section: Section, page: int, lang: str) -> Screenful:
    topics = store.section(section)
    pages = max(1, -(-len(topics) // TOPICS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = topics[page * TOPICS_PER_PAGE:(page + 1) * TOPICS_PER_PAGE]
    screen = Screen.CONSULAR if section == Section.CONSULAR else Screen.ABOUT
    if section == Section.CONSULAR:
        text = _("<b>Consular services</b>\n"
                 "Choose a topic, or type your question in your own words.")
    else:
        text = _("<b>About Kazakhstan</b>\nHistory, land, economy, culture and travel.")
    rows = [[Button(t.title.get(lang), TopicCard(slug=t.slug).pack())] for t in shown]
    if pager := _pager(screen, page, pages):
        rows.append(pager)
    rows.append([_menu_button()])
    return Screenful(text, rows)


def country_pages(store: ContentStore, lang: str) -> list[list[str]]:
    ordered = store.countries_sorted(lang)
    return [ordered[i:i + COUNTRIES_PER_PAGE] for i in range(0, len(ordered), COUNTRIES_PER_PAGE)]


def country_list(store: ContentStore, page: int, lang: str) -> Screenful:
    pages = country_pages(store, lang) or [[]]
    page = min(max(page, 0), len(pages) - 1)
    ranges = []
    for chunk in pages:
        first = first_letter(store.country_name(chunk[0], lang)) if chunk else ""
        last = first_letter(store.country_name(chunk[-1], lang)) if chunk else ""
        ranges.append(first if first == last else f"{first}–{last}")
    text = _("<b>Countries</b> ({letters})\n"
             "Choose a country or type its name in any language.").format(letters=ranges[page])
    shown = pages[page]
    rows = [
        [Button(f"{flag(iso)} {store.country_name(iso, lang)}", CountryCard(iso=iso).pack())
         for iso in shown[i:i + 2]]
        for i in range(0, len(shown), 2)
    ]
    if pager := _pager(Screen.COUNTRIES, page, len(pages), ranges):
        rows.append(pager)
    rows.append([_menu_button()])
    return Screenful(text, rows)


def country_choices(store: ContentStore, codes: list[str], lang: str) -> Screenful:
    rows = [[Button(f"{flag(iso)} {store.country_name(iso, lang)}", CountryCard(iso=iso).pack())]
            for iso in codes]
    rows.append([_menu_button()])
    return Screenful(_("Which country do you mean?"), rows)


def language_screen() -> Screenful:
    text = _("Choose the language I should use with you.") + "\n" + \
        "Тілді таңдаңыз · Выберите язык · Choose a language"
    return Screenful(text, [
        [Button(name, SetLanguage(code=code).pack()) for code, name in LANGUAGE_BUTTONS.items()],
        [_menu_button()],
    ])


def _command_lines(items: list[tuple[str, str]]) -> list[str]:
    return [f"/{command} — {description}" for command, description in items]


def help_screen(role: str | None = None, operator: bool = False) -> Screenful:
    """What the person can do: every citizen's command, then their role's (same lists as
    the command menu, bot/navigation/commands.py)."""
    # Imported here: the commands module speaks to Telegram (aiogram), which the answering
    # path (`bot.py ask`) never loads.
    from bot.navigation import commands
    lines = [
        _("<b>How I can help</b>"),
        _("Type a question in Kazakh, Russian or English, for example: "
          "<i>“I lost my passport in Turkey”</i>. I will answer and add the details "
          "for the country you name."),
        "",
        *_command_lines(commands.citizen_commands()),
    ]
    if role in ("editor", "admin"):
        lines += ["", _("<b>For editors</b>"), *_command_lines(commands.editor_commands())]
    if role == "admin":
        lines += ["", _("<b>For administrators</b>"),
                  *_command_lines(commands.admin_commands())]
    if operator:
        lines += ["", _("<b>For consular operators</b>, in the operators' group"),
                  *_command_lines(commands.operator_commands())]
    lines += [
        "",
        _("My answers are general guidance. For your own case, contact the embassy or "
          "consulate: their contacts are on each country's card."),
    ]
    text = "\n".join(lines)
    return Screenful(text, [
        [Button(_("📞 Reach a person"), Nav(screen=Screen.CONTACT).pack())],
        [_menu_button()],
    ])


def contact_screen() -> Screenful:
    text = "\n".join([
        _("<b>Reaching a consular officer</b>"),
        _("Open the card of the country you are in: it lists the embassy or consulate and "
          "its official page with phone numbers and reception hours."),
        _("In an emergency, call the local emergency number first, then the embassy."),
    ])
    return Screenful(text, [
        [Button(_("✍️ Ask a consular officer"), OfficerCb(action="new").pack())],
        [Button(_("🌍 Countries"), Nav(screen=Screen.COUNTRIES).pack())],
        [Button(_("Ministry of Foreign Affairs"), url=MFA_URL)],
        [_menu_button()],
    ])
