"""What the running bot imports at start-up: heavy libraries only where they are used."""

from __future__ import annotations

import subprocess
import sys

from tests.kit import ROOT


def test_the_running_bot_does_not_load_matplotlib_until_a_chart_is_drawn() -> None:
    """matplotlib costs start-up time and memory; only /stats needs it, in its own process."""
    code = ("import sys, bot.app, bot.factory, handlers; handlers.create_root_router(); "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
