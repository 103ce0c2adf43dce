"""The explanation service object (``app.extensions["nen_explain"]``): cache, sign, link."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from cds_service.explain.store import Store, StoreUnavailable, make_store
from cds_service.explain.summary import explanation
from cds_service.explain.tokens import ExpiredToken, TokenSigner
from cds_service.rendering.cards import CardContext, templates
from cds_service.settings import Settings

log = logging.getLogger("cds_service.explain")

SMART_LAUNCH_PATH = "/explain/smart/launch"
SMART_STATE_SECONDS = 600


class Explainer:
    def __init__(self, settings: Settings, store: Store | None = None, clock: Callable[[], float] = time.time):
        self.settings = settings
        self.signer = TokenSigner(settings.explain_secret, settings.explain_token_seconds, clock)
        self.store = store if store is not None else make_store(settings)
        if settings.explain_token_seconds > self.signer.lifetime:
            log.warning(
                "EXPLAIN_TOKEN_SECONDS capped",
                extra={"configured": settings.explain_token_seconds, "used": self.signer.lifetime},
            )
        if self.signer.random_key and settings.redis_url:
            log.warning("REDIS_URL without EXPLAIN_SECRET: explanation links work only on the replica that made them")

    @property
    def smart_enabled(self) -> bool:
        return bool(self.settings.smart_client_id)

    # ------------------------------------------------------------ cache

    def publish(self, snapshot: dict[str, Any]) -> str:
        """Cache an explanation; the signed token that names it."""
        key = self.signer.new_key()
        token, expires = self.signer.sign(key)
        self.store.put(key, {**snapshot, "expires": expires}, self.signer.lifetime)
        return token

    def load(self, token: str) -> dict[str, Any]:
        """The explanation a token names. Raises InvalidToken, ExpiredToken (also when evicted)."""
        claims = self.signer.verify(token)
        snapshot = self.store.get(claims.key)
        if snapshot is None:
            raise ExpiredToken("no longer cached")
        return snapshot

    # ------------------------------------------------------------ hook responses

    def attach(self, result: Any, body: dict[str, Any], card_context: CardContext, service_base: str) -> None:
        """Cache this evaluation and add the explanation link (and SMART link) to every card.

        Never fails the hook: if the cache is unreachable the cards go out without the link.
        """
        cards = result.body.get("cards") or []
        if not cards:
            return
        snapshot = explanation(result.evaluation, result.record, cards)
        try:
            token = self.publish(snapshot)
        except StoreUnavailable as exc:
            log.warning("explanation cache unavailable: cards sent without link", extra={"error": str(exc)})
            return
        base = service_base.rstrip("/")
        label = templates()["explain_link_label"]
        links = [{"label": label, "url": f"{base}/explain/{token}", "type": "absolute"}]
        if self.smart_enabled:
            links.append({"label": f"{label} (SMART app)", "url": base + SMART_LAUNCH_PATH, "type": "smart"})
        for card in cards:
            existing = card.setdefault("links", [])
            known = {(link.get("type"), link.get("label")) for link in existing}
            existing.extend(dict(link) for link in links if (link["type"], link["label"]) not in known)

    # ------------------------------------------------------------ SMART launch state

    def save_state(self, state: str, value: dict[str, Any]) -> None:
        self.store.put(f"smart-state:{state}", value, SMART_STATE_SECONDS)

    def take_state(self, state: str) -> dict[str, Any] | None:
        return self.store.pop(f"smart-state:{state}")
