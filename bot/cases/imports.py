"""The consular system's CSV of cases (``python bot.py cases import FILE``): every row is
checked before any is written, then each case is created or brought up to date through the
same :func:`bot.cases.service.apply` the desk uses."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.answers.store import ContentStore
from bot.cases.service import (
    FACTORS,
    NOTE_CHARS,
    SERVICES,
    STATUSES,
    CaseInput,
    apply,
    normalize_factor,
    normalize_number,
    parse_date,
    parse_mission,
)
from bot.config import LANGUAGES
from storage.cases import CaseRepo
from storage.models.base import utcnow

# --- the CSV from the consular system ---------------------------------------------------

COLUMNS = ("number", "service", "mission", "status", "factor", "secret", "lang")
OPTIONAL = ("note", "date")


class CaseImportErrors(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    status_changes: int = 0
    notices: int = 0
    unchanged: int = 0
    numbers: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.created} created, {self.updated} updated "
                f"({self.status_changes} status changes, {self.notices} notices queued), "
                f"{self.unchanged} unchanged")


def _moment(text: str, tz: ZoneInfo) -> datetime | None:
    """``2026-11-30`` (noon in TIMEZONE) or an ISO date and time (UTC when no offset)."""
    day = parse_date(text) if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text.strip()) else None
    if day is not None:
        return datetime(day.year, day.month, day.day, 12, tzinfo=tz).astimezone(UTC)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_csv(path: Path, store: ContentStore, tz: ZoneInfo,
              now: datetime | None = None) -> list[CaseInput]:
    """Every row, or :class:`CaseImportErrors` naming each bad line and column."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseImportErrors([f"{name}: cannot be read ({exc})"]) from None
    # lines starting with "#" are comments (the sample file says it is a sample)
    lines = ["\n" if ln.lstrip().startswith("#") else ln
             for ln in text.splitlines(keepends=True)]
    offset = next((i for i, ln in enumerate(lines) if ln.strip()), len(lines))
    reader = csv.DictReader(lines[offset:])
    header = [h.strip() for h in reader.fieldnames or []]
    problems = [f'{name}:{offset + 1}: column "{c}": missing from the header' for c in COLUMNS
                if c not in header]
    problems += [f'{name}:{offset + 1}: column "{c}": unknown column (known: '
                 f'{", ".join(COLUMNS + OPTIONAL)})' for c in header
                 if c not in COLUMNS + OPTIONAL]
    if problems:
        raise CaseImportErrors(problems)
    reader.fieldnames = header
    items: list[CaseInput] = []
    seen: dict[str, int] = {}
    now = now or utcnow()
    for row in reader:
        line = reader.line_num + offset

        def bad(column: str, why: str, line: int = line) -> None:
            problems.append(f'{name}:{line}: column "{column}": {why}')

        if None in row:
            bad(header[-1], "more values than columns")
            continue
        cell = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if not any(cell.values()):
            continue
        number = normalize_number(cell["number"])
        if number is None:
            bad("number", f'"{cell["number"]}" is not an application number '
                          "(3-32 letters, digits, - or /)")
        elif number in seen:
            bad("number", f'"{number}" is already on line {seen[number]}')
        else:
            seen[number] = line
        service = cell["service"].lower()
        if service not in SERVICES:
            bad("service", f'unknown service "{cell["service"]}" (known: {", ".join(SERVICES)})')
        mission = parse_mission(store, cell["mission"])
        if mission is None:
            bad("mission", f'unknown mission "{cell["mission"]}" (a mission id from '
                           "content/countries such as de-berlin, or a country code for its "
                           "first mission)")
        status = cell["status"].lower()
        if status not in STATUSES:
            bad("status", f'unknown status "{cell["status"]}" (known: {", ".join(STATUSES)})')
        kind = cell["factor"].lower()
        secret = None
        if kind not in FACTORS:
            bad("factor", f'unknown second factor "{cell["factor"]}" (known: dob, doc4)')
        else:
            secret = normalize_factor(kind, cell["secret"])
            if secret is None:
                bad("secret", "not a date of birth (YYYY-MM-DD)" if kind == "dob"
                    else "not the document's last 4 digits")
        lang = cell["lang"].lower()
        if lang not in LANGUAGES:
            bad("lang", f'unknown language "{cell["lang"]}" (known: kk, ru, en)')
        note = cell.get("note") or None
        if note and len(note) > NOTE_CHARS:
            bad("note", f"longer than {NOTE_CHARS} characters")
        at = None
        if cell.get("date"):
            at = _moment(cell["date"], tz)
            if at is None:
                bad("date", f'"{cell["date"]}" is not a date (YYYY-MM-DD or ISO date and time)')
            elif at > now + timedelta(days=1):
                bad("date", f'"{cell["date"]}" is in the future')
        if number and number in seen and seen[number] == line and mission and secret \
                and service in SERVICES and status in STATUSES and lang in LANGUAGES:
            items.append(CaseInput(number, service, mission[0], mission[1], status, kind,
                                   secret, lang, note, at))
    if problems:
        raise CaseImportErrors(problems)
    return items


async def import_cases(factory: async_sessionmaker[AsyncSession], store: ContentStore,
                       path: Path, tz: ZoneInfo, now: datetime | None = None) -> ImportReport:
    """Validate the whole file, then write it in one transaction (nothing if any line is bad).

    The notices are queued in the outbox; the running bot sends them.
    """
    now = now or utcnow()
    items = parse_csv(path, store, tz, now)
    report = ImportReport()
    async with factory() as session, session.begin():
        repo = CaseRepo(session)
        existing = await repo.by_numbers([i.number for i in items])
        for item in items:
            change = await apply(repo, item, existing.get(item.number), "import", now)
            if change.created:
                report.created += 1
            elif change.updated:
                report.updated += 1
            else:
                report.unchanged += 1
            if change.step is not None and not change.created:
                report.status_changes += 1
            report.notices += change.notices
            report.numbers.append(item.number)
    return report
