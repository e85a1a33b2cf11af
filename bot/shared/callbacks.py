"""Callback data, the base of every button's data: packed as ``prefix:field:field``.

Plain Python (no Telegram framework) so the services that build buttons also run in
``bot.py ask``. Anything that does not unpack is stale or forged: :meth:`unpack` raises
``ValueError`` and the handlers' filter (:meth:`filter`) simply does not match.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Self, get_type_hints

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit
SEP = ":"


@dataclasses.dataclass(frozen=True)
class CallbackData:
    prefix: ClassVar[str]

    def pack(self) -> str:
        parts = [self.prefix]
        for f in dataclasses.fields(self):
            value = str(getattr(self, f.name))
            if SEP in value:
                raise ValueError(f"{f.name} may not contain {SEP!r}")
            parts.append(value)
        packed = SEP.join(parts)
        if len(packed.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data longer than {CALLBACK_DATA_LIMIT} bytes: {packed}")
        return packed

    @classmethod
    def unpack(cls, data: str) -> Self:
        prefix, *values = data.split(SEP)
        fields = dataclasses.fields(cls)
        if prefix != cls.prefix or len(values) != len(fields):
            raise ValueError(f"not {cls.__name__} data: {data!r}")
        hints = get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for f, raw in zip(fields, values, strict=True):
            kwargs[f.name] = hints[f.name](raw)
        item = cls(**kwargs)
        item.check()
        return item

    def check(self) -> None:
        """Raise ``ValueError`` for values no real button carries."""

    @classmethod
    def filter(cls, rule: Any = None) -> Any:
        """An aiogram filter matching this data (and ``rule``, a magic filter over it, such
        as ``F.action == "add"``); imported lazily, only the bot needs it."""
        from bot.shared.filters import CallbackDataFilter

        return CallbackDataFilter(cls, rule)


