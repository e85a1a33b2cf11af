"""Callback data of /forget_me's confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from bot.shared.callbacks import CallbackData


@dataclass(frozen=True)
class ForgetMe(CallbackData):
    prefix: ClassVar[str] = "fm"
    action: str  # "yes" | "no"
