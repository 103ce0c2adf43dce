"""The explanation service object (``app.extensions["nen_explain"]``): cache, sign, link."""

from __future__ import annotations

import logging
import pickle
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cds_service.explain.store import Store, StoreUnavailable, make_store
from cds_service.explain.summary import RecordInventory, explanation
from cds_service.explain.tokens import ExpiredToken, TokenSigner
from cds_service.guideline.evaluate import Evaluation, evaluate
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

    def publish_lazy(self, build: Callable[[], dict[str, Any]]) -> str:
        """Cache an explanation that ``build`` makes: only when the link is opened, if the store is in
        process (the hook pays for a few references, not for the page); at once for a shared store."""
        key = self.signer.new_key()
        token, expires = self.signer.sign(key)
        put_lazy = getattr(self.store, "put_lazy", None)
        if put_lazy is None:
            self.store.put(key, {**build(), "expires": expires}, self.signer.lifetime)
        else:
            put_lazy(key, lambda: {**build(), "expires": expires}, self.signer.lifetime)
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
        evaluation, digest = result.evaluation, card_digest(cards)
        inventory = None if result.record is None else RecordInventory.of(result.record)
        if getattr(self.store, "put_lazy", None) is not None:
            build = _replayed(evaluation, inventory, digest)
        else:
            build = lambda: explanation(evaluation, inventory, digest)  # noqa: E731 - built at once below
        try:
            token = self.publish_lazy(build)
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


def _signature(evaluation: Evaluation) -> int:
    return hash(
        tuple(
            (d.rec.id, d.outcome.value, d.reason, d.missing, tuple(d.answers.items()), d.order and d.order.text)
            for d in evaluation.decisions
        )
    )


def _replayed(
    evaluation: Evaluation, inventory: RecordInventory | None, digest: list[dict[str, Any]]
) -> Callable[[], dict[str, Any]]:
    """The explanation of a hook's evaluation, built when its link is opened, from a few kilobytes.

    Kept in process meanwhile: the facts and draft orders, pickled and compressed (the evaluation
    itself, with its ~60 decisions, would be ten times larger), and a signature of the decisions.
    The evaluation is deterministic (``evaluate(hook, facts, orders)``, as ``run_hook`` calls it):
    it is run again when the link is opened, and the page is refused rather than shown if its
    decisions are not the ones the cards were made from.
    """
    hook, signature = evaluation.hook, _signature(evaluation)
    frozen = zlib.compress(pickle.dumps((evaluation.facts, evaluation.orders), pickle.HIGHEST_PROTOCOL), 1)

    def build() -> dict[str, Any]:
        facts, orders = pickle.loads(zlib.decompress(frozen))  # our own bytes, never request input
        again = evaluate(hook, facts, orders)
        if _signature(again) != signature:
            raise RuntimeError("the evaluation could not be replayed identically")
        return explanation(again, inventory, digest)

    return build


def card_digest(cards: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What ``summary.explanation`` reads of the cards (topic code, summary, indicator), copied before
    the cards go out: the explanation can then be built later, from the same content."""
    out: list[dict[str, Any]] = []
    for card in cards:
        source = card.get("source")
        if isinstance(source, Mapping) and "topic" in source:
            digest: dict[str, Any] = {k: card[k] for k in ("summary", "indicator") if k in card}
            digest["source"] = {"topic": {"code": source["topic"]["code"]}}
            out.append(digest)
    return out
