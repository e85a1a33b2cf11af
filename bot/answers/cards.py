"""Topic and country cards: what a citizen reads about a consular topic or a country."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.answers.callbacks import CountryCard, TopicCard
from bot.answers.content import Country, Mission, MissionKind, Topic, VisaRegime
from bot.navigation.callbacks import Nav, Screen
from bot.places.callbacks import MissionCard
from bot.places.service import ordered, prompt_names
from bot.shared.render import MENU_BUTTON_LIMIT, Button, Screenful, flag
from bot.shared.tghtml import quote
from bot.shared.translation import fmt_date, ngettext
from bot.shared.translation import gettext as _
from bot.travel.alert_board import Board
from bot.travel.callbacks import AlertArchive, FollowCountry

if TYPE_CHECKING:  # the content store is passed in; importing it would be a circle
    from bot.answers.store import ContentStore

# Which parts of a country card belong beside which topic's answer.
COUNTRY_FACETS: dict[str, tuple[str, ...]] = {
    "visa-for-citizens": ("visa", "missions"),
    "travel-advisory": ("advisory", "emergency"),
    "emergency-help": ("emergency", "missions"),
    "lost-passport": ("emergency", "missions"),
    "death-abroad": ("emergency", "missions"),
}


# Which of those lead the answer, right under its title: the visa regime for the country
# named ("visa Germany"), the emergency numbers for someone in trouble.
LEAD_FACETS: dict[str, tuple[str, ...]] = {
    "visa-for-citizens": ("visa",),
    "emergency-help": ("emergency",),
    "death-abroad": ("emergency",),
}


def unverified_mark() -> str:
    return "⚠️"


def _source_line(*urls: str) -> str:
    """The one "not verified" line of a card, however many of its parts are unverified, with
    a link to each of their official sources."""
    links = ", ".join(
        f'<a href="{quote(url)}">{quote(url.removeprefix("https://"))}</a>'
        for url in dict.fromkeys(urls)
    )
    return _("⚠️ Not verified: this may have changed. Check the official source: {link}").format(
        link=links
    )


def _sample_line() -> str:
    return "<i>" + _("Sample content, pending the ministry's review.") + "</i>"


def _reviewed_line(day: date, lang: str, tz: ZoneInfo) -> str:
    """When the file's facts were last checked (its ``reviewed`` field), not when it was
    imported. The one place a card's date is formatted."""
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=tz)  # the same day in any zone
    return "<i>" + _("Updated {date}").format(date=fmt_date(noon, lang, tz)) + "</i>"


def visa_label(regime: VisaRegime) -> str:
    return {
        VisaRegime.VISA_FREE: _("not required"),
        VisaRegime.VISA_ON_ARRIVAL: _("issued on arrival"),
        VisaRegime.E_VISA: _("apply online (e-visa)"),
        VisaRegime.VISA_REQUIRED: _("required"),
    }[regime]


def advisory_label(level: int) -> str:
    return {
        1: _("Level 1 of 4: normal precautions"),
        2: _("Level 2 of 4: increased caution"),
        3: _("Level 3 of 4: reconsider travel"),
        4: _("Level 4 of 4: do not travel"),
    }[level]


def mission_label(kind: MissionKind) -> str:
    return {
        MissionKind.EMBASSY: _("Embassy of Kazakhstan"),
        MissionKind.CONSULATE_GENERAL: _("Consulate General of Kazakhstan"),
        MissionKind.CONSULATE: _("Consulate of Kazakhstan"),
    }[kind]


def visa_block(country: Country, lang: str) -> str:
    visa = country.visa
    head = _("🛂 <b>Visa:</b> {regime}").format(regime=visa_label(visa.regime))
    if visa.max_stay_days:
        head += " " + ngettext(
            "(up to {days} day)", "(up to {days} days)", visa.max_stay_days
        ).format(days=visa.max_stay_days)
    if not visa.verified:
        head += " " + unverified_mark()
    return f"{head}\n{visa.note.get(lang)}"


def advisory_block(country: Country, lang: str, tz: ZoneInfo | None = None) -> str:
    adv = country.advisory
    head = _("🚦 <b>Safety:</b> {level}").format(level=advisory_label(adv.level))
    if not adv.verified:
        head += " " + unverified_mark()
    block = f"{head}\n{adv.note.get(lang)}"
    if adv.reviewed is not None:
        day = adv.reviewed
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=tz or ZoneInfo("UTC"))
        when = fmt_date(noon, lang, tz or ZoneInfo("UTC"))
        if adv.changed is not None:
            line = _("Advice last reviewed {date}: {changed}").format(
                date=when, changed=adv.changed.get(lang))
        else:
            line = _("Advice last reviewed {date}.").format(date=when)
        block += f"\n<i>{line}</i>"
    return block


def emergency_block(country: Country) -> str:
    em = country.emergency
    parts = []
    if em.general:
        parts.append(f"<b>{quote(em.general)}</b>")
    for label, number in (
        (_("police"), em.police), (_("ambulance"), em.ambulance), (_("fire"), em.fire)
    ):
        if number and number != em.general:
            parts.append(f"{label} {quote(number)}")
    line = _("🚑 <b>Emergency numbers:</b> {numbers}").format(numbers=" · ".join(parts))
    return line if em.verified else f"{line} {unverified_mark()}"


def mission_block(mission: Mission, lang: str, serves: bool = False) -> str:
    head = f"🏛 <b>{mission_label(mission.kind)}</b>, {mission.city.get(lang)}"
    if not mission.verified:
        head += " " + unverified_mark()
    lines = [head]
    if mission.address:
        lines.append(_("Address: {address}").format(address=quote(mission.address)))
    if mission.phone:
        lines.append(_("Phone: {phone}").format(phone=quote(mission.phone)))
    if mission.email:
        lines.append(_("E-mail: {email}").format(email=quote(mission.email)))
    if mission.website:
        label = _("Official page")
        lines.append(f'<a href="{quote(mission.website)}">{label}</a>')
    if mission.hours:
        lines.append(mission.hours.get(lang))
    if serves and mission.serves is not None:
        names = mission.serves.regions.get(lang) or mission.serves.cities.get(lang)
        lines.append(_("Serves: {places}").format(
            places=quote(", ".join(dict.fromkeys(names)))))
    return "\n".join(lines)


def where_are_you(country: Country, lang: str) -> list[list[Button]]:
    """One button per mission, named by the places it serves: the card with it first."""
    rows = []
    for mission in country.missions:
        names = prompt_names(mission, lang)
        label = "📍 " + ", ".join(names[:2]) + ("…" if len(names) > 2 else "")
        rows.append([Button(label, MissionCard(mission=mission.id).pack())])
    return rows


def _country_verified(country: Country) -> bool:
    return (
        country.visa.verified and country.advisory.verified and country.emergency.verified
        and all(m.verified for m in country.missions)
    )


def country_card(store: ContentStore, iso: str, lang: str, tz: ZoneInfo,
                 mission: str | None = None, *, board: Board) -> Screenful:
    """The country card; ``mission`` (an id) is the mission serving where the person is,
    shown first. A country with several missions asks "Where are you?" until one is known.
    The country's active alerts (``board``) come on top."""
    country = store.countries[iso]
    several = len(country.missions) > 1
    missions = ordered(country.missions, mission)
    parts = [
        *filter(None, [board.banner(iso, lang)]),
        f"{flag(iso)} <b>{quote(store.country_name(iso, lang))}</b>",
        visa_block(country, lang),
        advisory_block(country, lang, tz),
        emergency_block(country),
        *(mission_block(m, lang, serves=several) for m in missions),
    ]
    if several and not any(m.id == mission for m in missions):
        parts.append(_("📍 <b>Where are you?</b> Choose your region: the mission that serves "
                       "it comes first."))
    footer = []
    if not _country_verified(country):
        footer.append(_source_line(country.source.url))
    if country.sample:
        footer.append(_sample_line())
    footer.append(_reviewed_line(country.reviewed, lang, tz))
    html = "\n\n".join(parts) + ("\n\n" + "\n".join(footer) if footer else "")
    buttons = [
        [
            Button(_("🛂 Visa"), TopicCard(slug="visa-for-citizens", iso=iso).pack()),
            Button(_("🆘 Emergency"), TopicCard(slug="emergency-help", iso=iso).pack()),
        ],
        [Button(_("🚦 Travel advice"), TopicCard(slug="travel-advisory", iso=iso).pack())],
        [Button(_("🔔 Follow alerts"), FollowCountry(iso=iso).pack()),
         Button(_("🗂 Past alerts"), AlertArchive(iso=iso).pack())],
        *(where_are_you(country, lang) if several else []),
        [
            Button(_("⬅️ Countries"), Nav(screen=Screen.COUNTRIES).pack()),
            Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack()),
        ],
    ]
    buttons = [[b for b in row if _topic_exists(store, b)] for row in buttons]
    return Screenful(html, [row for row in buttons if row])


def _topic_exists(store: ContentStore, button: Button) -> bool:
    if button.data and button.data.startswith("t:"):
        return TopicCard.unpack(button.data).slug in store.topics
    return True


def country_specifics(
    store: ContentStore, topic: Topic, iso: str, lang: str,
    facets: tuple[str, ...] | None = None, header: bool = True, mission: str | None = None,
) -> str:
    country = store.countries[iso]
    if facets is None:
        facets = COUNTRY_FACETS.get(topic.slug, ("missions",))
    blocks = [f"{flag(iso)} <b>{quote(store.country_name(iso, lang))}</b>"] if header else []
    for facet in facets:
        if facet == "visa":
            blocks.append(visa_block(country, lang))
        elif facet == "advisory":
            blocks.append(advisory_block(country, lang))
        elif facet == "emergency":
            blocks.append(emergency_block(country))
        else:
            blocks.extend(mission_block(m, lang) for m in ordered(country.missions, mission))
    return "\n\n".join(blocks)


def topic_card(
    store: ContentStore, slug: str, lang: str, tz: ZoneInfo, iso: str | None = None,
    back: Button | None = None, mission: str | None = None,
) -> Screenful:
    topic = store.topics[slug]
    parts = [f"<b>{topic.title.get(lang)}</b>", topic.body.get(lang)]
    unverified_sources = [] if topic.verified else [topic.source.url]
    reviewed = topic.reviewed
    if iso and iso in store.countries and topic.section == "consular":
        country = store.countries[iso]
        lead = LEAD_FACETS.get(slug, ())
        rest = tuple(f for f in COUNTRY_FACETS.get(slug, ("missions",)) if f not in lead)
        if lead:
            parts.insert(1, country_specifics(store, topic, iso, lang, lead, mission=mission))
        if rest:
            parts.append(country_specifics(store, topic, iso, lang, rest, header=not lead,
                                           mission=mission))
        if not _country_verified(country):
            unverified_sources.append(country.source.url)
        reviewed = min(reviewed, country.reviewed)  # as fresh as its least recently checked part
    footer = [_source_line(*unverified_sources)] if unverified_sources else []
    if topic.sample:
        footer.append(_sample_line())
    footer.append(_reviewed_line(reviewed, lang, tz))
    html = "\n\n".join(parts) + ("\n\n" + "\n".join(footer) if footer else "")
    related = [r for r in topic.related if r in store.topics][:MENU_BUTTON_LIMIT]
    rows = [
        [Button(store.topics[r].title.get(lang), TopicCard(slug=r, iso=iso or "").pack())
         for r in related[i:i + 2]]
        for i in range(0, len(related), 2)
    ]
    if iso and iso in store.countries:
        rows.append([Button(
            _("{flag} {country}: country card").format(
                flag=flag(iso), country=store.country_name(iso, lang)),
            CountryCard(iso=iso).pack(),
        )])
    screen = Screen.ABOUT if topic.section == "about" else Screen.CONSULAR
    nav = [back or Button(_("⬅️ Back"), Nav(screen=screen).pack()),
           Button(_("🏠 Menu"), Nav(screen=Screen.MAIN).pack())]
    rows.append(nav)
    return Screenful(html, rows)
