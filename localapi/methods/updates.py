"""Updates: getUpdates long polling, webhooks, and delivery to one or several processes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from ..records import JSON, ApiError, bad_request
from ..state import DEFAULT_UPDATES, BotState, Handler, Params
from ..world import World

Run = Callable[[str, str, JSON], Awaitable[tuple[int, JSON]]]
"""Runs a method for a bot token, as ``LocalBotAPI.call`` does (a webhook answer's method)."""


class Updates:
    def __init__(
        self, world: World, *, balance: str | None, retry_delay: float, run: Run
    ) -> None:
        self.world = world
        self.balance = balance
        self.retry_delay = retry_delay
        self.http: aiohttp.ClientSession | None = None
        self._run = run

    def table(self) -> dict[str, Handler]:
        return {
            "getUpdates": lambda bot, p: None,  # LocalBotAPI.call awaits get_updates unlocked
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": lambda bot, p: self.webhook_info(bot),
            "close": lambda bot, p: True,
            "logOut": lambda bot, p: True,
        }

    @staticmethod
    def _allowed(state: BotState, update: JSON) -> bool:
        return any(key in state.allowed_updates for key in update if key != "update_id")

    def _keep_allowed(self, state: BotState) -> None:
        state.updates = [u for u in state.updates if self._allowed(state, u)]

    # ------------------------------------------------------------------ long polling

    async def get_updates(self, state: BotState, p: Params) -> list[JSON]:
        world = self.world
        if state.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = p.int("offset", 0) or 0
        limit = min(max(p.int("limit", 100) or 100, 1), 100)
        timeout = max(p.int("timeout", 0) or 0, 0)
        allowed = p.json("allowed_updates")
        state.poll_generation += 1
        generation = state.poll_generation
        state.wake()
        if isinstance(allowed, list):
            state.allowed_updates = list(allowed) or list(DEFAULT_UPDATES)
        if offset > 0:
            state.updates = [u for u in state.updates if u["update_id"] >= offset]
        elif offset < 0:
            state.updates = state.updates[offset:]
        deadline = world.clock() + timeout
        while True:
            self._keep_allowed(state)
            if state.updates or world.closing:
                return state.updates[:limit]
            remaining = deadline - world.clock()
            if remaining <= 0:
                return []
            signal = state.signal
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(signal.wait(), remaining / world.time_scale)
            if state.poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )

    # ------------------------------------------------------------------ webhook

    def set_webhook(self, state: BotState, p: Params) -> bool:
        url = p.str("url", "") or ""
        if not url:
            return self.delete_webhook(state, p)
        if not url.startswith(("http://", "https://")):
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = p.str("secret_token")
        if secret is not None and not all(c.isalnum() or c in "_-" for c in secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = p.json("allowed_updates")
        if isinstance(allowed, list):
            state.allowed_updates = list(allowed) or list(DEFAULT_UPDATES)
        if p.bool("drop_pending_updates"):
            state.updates.clear()
        if self.balance is None:
            state.webhook_urls = [url]
        elif url not in state.webhook_urls:
            state.webhook_urls.append(url)  # one more process behind the balancer
        state.webhook = {
            "url": state.webhook_urls[0],
            "secret_token": secret,
            "max_connections": p.int("max_connections", 40),
        }
        state.webhook_error = None
        if state.webhook_task is None or state.webhook_task.done():
            deliver = self._deliver if self.balance is None else self._deliver_balanced
            state.webhook_task = asyncio.get_running_loop().create_task(deliver(state))
        state.poll_generation += 1
        state.wake()
        return True

    def delete_webhook(self, state: BotState, p: Params) -> bool:
        if p.bool("drop_pending_updates"):
            state.updates.clear()
        state.webhook = None
        state.webhook_urls = []
        state.webhook_error = None
        if state.webhook_task is not None:
            state.webhook_task.cancel()
            state.webhook_task = None
        return True

    async def stop_webhook(self, state: BotState) -> None:
        task = state.webhook_task
        state.webhook_task = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def webhook_info(self, state: BotState) -> JSON:
        info: JSON = {
            "url": state.webhook["url"] if state.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(state.updates),
        }
        if state.webhook:
            info["max_connections"] = state.webhook["max_connections"]
            if self.balance is not None:
                info["urls"] = list(state.webhook_urls)  # not Telegram's: the balancer's pool
            info["allowed_updates"] = list(state.allowed_updates)
            info["ip_address"] = "127.0.0.1"
        if state.webhook_error:
            info["last_error_date"], info["last_error_message"] = state.webhook_error
        return info

    async def _failed(self, state: BotState, error: str, failures: int) -> None:
        """Record a failed post as Telegram shows it, then wait Telegram's growing delay."""
        state.webhook_error = (self.world.now(), error)
        await self.world.sleep(min(self.retry_delay * 2 ** (failures - 1), 60.0))

    async def _deliver(self, state: BotState) -> None:
        """Post pending updates to the webhook one by one, retrying failures."""
        failures = 0
        while state.webhook and not self.world.closing:
            self._keep_allowed(state)
            if not state.updates:
                signal = state.signal
                await signal.wait()
                continue
            update = state.updates[0]
            error = await self._post_update(state, state.webhook["url"], update)
            if error is None:
                failures = 0
                continue
            failures += 1
            await self._failed(state, error, failures)

    async def _post_update(self, state: BotState, url: str, update: JSON) -> str | None:
        """POST one update; on success drop it from the queue and run the answer's method.
        Returns the error Telegram would record, or None."""
        hook = state.webhook
        assert hook is not None
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        error: str | None = None
        reply: Any = None
        try:
            assert self.http is not None
            async with self.http.post(
                url,
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=60),
            ) as response:
                body = await response.read()
                if self.world.lost_answers > 0:
                    self.world.lost_answers -= 1
                    error = "Read timeout expired"
                elif 200 <= response.status < 300:
                    with contextlib.suppress(ValueError):
                        reply = json.loads(body) if body else None
                else:
                    error = (
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
        except asyncio.CancelledError:
            raise
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            error = f"Connection failed: {type(exc).__name__}"
        if error is None:
            state.updates = [u for u in state.updates if u is not update]
            if isinstance(reply, dict) and isinstance(reply.get("method"), str):
                method = reply.pop("method")
                await self._run(state.token, method, reply)
        return error

    # ------------------------------------------------------------------ balanced webhooks

    @staticmethod
    def _update_chat(update: JSON) -> int | str:
        """Whose update this is (its chat, else its sender), for ordering and ``by_chat``."""
        for key, payload in update.items():
            if key == "update_id" or not isinstance(payload, dict):
                continue
            chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
            if isinstance(chat, dict) and "id" in chat:
                return int(chat["id"])
            sender = payload.get("from") or payload.get("user")
            if isinstance(sender, dict) and "id" in sender:
                return int(sender["id"])
        return f"update:{update['update_id']}"

    def _pick_url(self, state: BotState, update: JSON, failures: int) -> str:
        urls = state.webhook_urls
        if self.balance == "by_chat":
            chat = self._update_chat(update)
            digest = hashlib.sha256(str(chat).encode()).digest()
            return urls[(int.from_bytes(digest[:4], "big") + failures) % len(urls)]
        state.webhook_turn = (state.webhook_turn + 1) % len(urls)
        return urls[state.webhook_turn]

    async def _deliver_balanced(self, state: BotState) -> None:
        """Deliver as Telegram does behind a load balancer over several webhook processes.

        Updates of one chat go one at a time, in order: the next is posted once the
        previous one was answered. Updates of different chats go in parallel, at most
        ``max_connections`` at once. Each is posted to the next URL of the pool (round
        robin) or to its chat's URL (``by_chat``); a failed post is retried with Telegram's
        growing delay, to the next URL of the pool (the balancer passes over a process that
        does not answer).
        """
        in_flight: dict[int, asyncio.Task[None]] = {}
        busy: set[int | str] = set()
        try:
            while state.webhook and not self.world.closing:
                self._keep_allowed(state)
                limit = max(int(state.webhook.get("max_connections") or 40), 1)
                for update in list(state.updates):
                    if len(in_flight) >= limit:
                        break
                    update_id, chat = update["update_id"], self._update_chat(update)
                    if update_id in in_flight or chat in busy:
                        continue
                    busy.add(chat)
                    task = asyncio.get_running_loop().create_task(
                        self._post_balanced(state, update))
                    in_flight[update_id] = task

                    def done(_: asyncio.Task[None], update_id: int = update_id,
                             chat: int | str = chat) -> None:
                        in_flight.pop(update_id, None)
                        busy.discard(chat)
                        state.wake()

                    task.add_done_callback(done)
                signal = state.signal
                await signal.wait()
        finally:
            for task in list(in_flight.values()):
                task.cancel()

    async def _post_balanced(self, state: BotState, update: JSON) -> None:
        failures = 0
        while state.webhook and state.webhook_urls and not self.world.closing:
            error = await self._post_update(state, self._pick_url(state, update, failures),
                                            update)
            if error is None:
                return
            failures += 1
            await self._failed(state, error, failures)
