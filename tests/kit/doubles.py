"""Test doubles put into the dispatcher in place of a backend."""

from __future__ import annotations


class FakePublisher:
    """Records what the editors' UI asks of the publishing backend."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    async def start(self) -> None:
        """Started by the backend's start-up hook when put into the dispatcher first."""

    async def stop(self) -> None:
        """Stopped by the backend's shutdown hook."""

    async def schedule(self, post_id: int, *, recorded: bool = False) -> None:
        assert recorded, "the editors' UI records its own decisions"
        self.calls.append(("schedule", post_id))

    async def unschedule(self, post_id: int, *, recorded: bool = False) -> None:
        assert recorded, "the editors' UI records its own decisions"
        self.calls.append(("unschedule", post_id))

    async def edit_published(self, post_id: int) -> tuple[int, int]:
        self.calls.append(("edit_published", post_id))
        return 3, 1

    async def report(self, post_id: int, lang: str) -> str:
        self.calls.append(("report", post_id))
        return f"<b>Report {post_id}</b> sent 10"
