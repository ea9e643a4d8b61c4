"""The living risk book: how behaviour, officers and the calendar move a customer's tier after the scorecard.

The scorecard gives a static score from the profile; alerts add points that halve every
``points_half_life_days`` of event time; an officer may pin a tier until a date; a periodic review falls due
on a date set by the tier. Everything here is a pure function of the customer's state and event times, so
``replay`` and the stream agree, and a wall-clock punctuation that advances a quiet customer produces the
very records the customer's next event would have produced (each timed move carries its own time).

Hysteresis: a higher band is entered at once; a lower one only once the score has stayed below the current
band's minimum minus a margin for a cooldown. Between alerts the score only decays, so the moment it
crossed that line is solved for exactly, and the downgrade happens at crossing + cooldown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from sys import intern
from typing import Any
from zoneinfo import ZoneInfo

from config.detection import DetectionSettings
from detectors.context import CustomerContext
from detectors.scorecard import TIER_RANK, ScoreResult
from schemas.outputs import Alert, CustomerRisk, ReviewDue, review_id

DAY_SECONDS = 86400.0
# order of timed moves that fall on the same instant: the review first (the override a review set expires
# at the next due date, and the tier change it causes would otherwise restart the review clock unseen)
_REVIEW, _OVERRIDE, _DOWNGRADE = 0, 1, 2


def _shared(text: str | None) -> str | None:
    """One object for every customer's equal text (tiers, dates): a decoded customer holds a few of them."""
    return None if text is None else intern(text)


@dataclass(slots=True)
class Book:
    """The risk-book part of a customer's state (JSON-ready: floats, strings, ISO dates)."""

    static_score: float | None = None
    static_factors: dict[str, float] = field(default_factory=dict)
    static_reason: str = ""
    # detector -> [points at the time, event time]: decayed on read
    points: dict[str, list[float]] = field(default_factory=dict)
    computed_tier: str | None = None
    # the last event time the score was known to be at or above the current band's downgrade line
    above_ts: float | None = None
    # [tier, expires (epoch s), officer id, reason]
    override: list[Any] | None = None
    clock: float | None = None
    review_base: str | None = None
    last_review: str | None = None
    due: str | None = None
    emitted_due: str | None = None

    def __init__(  # written out: compiled (see ``detectors.observation``); one per customer decoded
        self,
        static_score: float | None = None,
        static_factors: dict[str, float] | None = None,
        static_reason: str = "",
        points: dict[str, list[float]] | None = None,
        computed_tier: str | None = None,
        above_ts: float | None = None,
        override: list[Any] | None = None,
        clock: float | None = None,
        review_base: str | None = None,
        last_review: str | None = None,
        due: str | None = None,
        emitted_due: str | None = None,
    ) -> None:
        self.static_score = static_score
        self.static_factors = {} if static_factors is None else static_factors
        self.static_reason = static_reason
        self.points = {} if points is None else points
        self.computed_tier = computed_tier
        self.above_ts = above_ts
        self.override = override
        self.clock = clock
        self.review_base = review_base
        self.last_review = last_review
        self.due = due
        self.emitted_due = emitted_due

    def to_json(self) -> dict[str, Any]:
        return {
            "static_score": self.static_score,
            "static_factors": dict(self.static_factors),
            "static_reason": self.static_reason,
            "points": {k: list(v) for k, v in self.points.items()},
            "computed_tier": self.computed_tier,
            "above_ts": self.above_ts,
            "override": None if self.override is None else list(self.override),
            "clock": self.clock,
            "review_base": self.review_base,
            "last_review": self.last_review,
            "due": self.due,
            "emitted_due": self.emitted_due,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Book:
        return Book(
            static_score=data["static_score"],
            static_factors=dict(data["static_factors"]),
            static_reason=data["static_reason"],
            points={k: [float(v[0]), float(v[1])] for k, v in data["points"].items()},
            computed_tier=_shared(data["computed_tier"]),
            above_ts=data["above_ts"],
            override=None if data["override"] is None else list(data["override"]),
            clock=data["clock"],
            review_base=_shared(data["review_base"]),
            last_review=_shared(data["last_review"]),
            due=_shared(data["due"]),
            emitted_due=_shared(data["emitted_due"]),
        )

    @classmethod
    def from_context(cls, ctx: CustomerContext) -> Book:
        """For state written before the risk book (format 2): the published tier and score were static."""
        return cls(
            static_score=ctx.score,
            static_factors=dict(ctx.factors),
            computed_tier=ctx.tier if ctx.score is not None else None,
        )


@dataclass(slots=True)
class Moves:
    risks: list[CustomerRisk] = field(default_factory=list)
    reviews: list[ReviewDue] = field(default_factory=list)

    def __init__(  # written out: compiled (see ``detectors.observation``)
        self, risks: list[CustomerRisk] | None = None, reviews: list[ReviewDue] | None = None
    ) -> None:
        self.risks = [] if risks is None else risks
        self.reviews = [] if reviews is None else reviews

    def extend(self, other: Moves) -> None:
        self.risks.extend(other.risks)
        self.reviews.extend(other.reviews)


class RiskBook:
    def __init__(self, settings: DetectionSettings, tz: ZoneInfo) -> None:
        self.s = settings.risk_book
        self.card = settings.scorecard
        self.default_tier = settings.default_tier
        self.tz = tz
        self.half_life = self.s.points_half_life_days * DAY_SECONDS
        self.cooldown = self.s.downgrade_cooldown_days * DAY_SECONDS
        # read on every event of a customer above the lowest tier: a plain attribute (a pydantic one
        # costs several times as much to read)
        self._margin = self.s.downgrade_margin_points
        # ISO due date -> the epoch second its day starts in the reporting zone (asked on every event)
        self._day_starts: dict[str, float] = {}
        self.bands = {
            "low": 0.0,
            "medium": self.card.medium_tier_min_score,
            "high": self.card.high_tier_min_score,
        }

    # ------------------------------------------------------------------------------------- figures
    def band(self, score: float) -> str:
        if score >= self.bands["high"]:
            return "high"
        return "medium" if score >= self.bands["medium"] else "low"

    def base(self, book: Book) -> float:
        return book.static_score if book.static_score is not None else self.bands[self.default_tier]

    def decayed(self, entry: list[float], t: float) -> float:
        return entry[0] * math.pow(0.5, max(0.0, t - entry[1]) / self.half_life)

    def behaviour(self, book: Book, t: float) -> dict[str, float]:
        return {d: self.decayed(e, t) for d, e in book.points.items()}

    def behaviour_sum(self, book: Book, t: float) -> float:
        """``sum(behaviour(book, t).values())``, the same float, without the dict."""
        return sum([self.decayed(e, t) for e in book.points.values()])

    def total(self, book: Book, t: float) -> float:
        return min(100.0, self.base(book) + self.behaviour_sum(book, t))

    def downgrade_line(self, tier: str) -> float:
        return self.bands[tier] - self._margin

    def downgrade_at(self, book: Book) -> float | None:
        """When the computed tier steps down if nothing else happens: the score crosses the downgrade line
        (solved exactly: between alerts it only decays) and then stays below it for the cooldown."""
        cur = book.computed_tier
        if cur is None or cur == "low" or book.clock is None:
            return None
        line = self.downgrade_line(cur)
        base = self.base(book)
        if base >= line:
            return None  # the scorecard alone holds the tier
        ref = book.clock
        b = self.behaviour_sum(book, ref)
        crossing = ref if b <= 0 else ref + self.half_life * math.log2(b / (line - base))
        if book.above_ts is not None:
            crossing = max(crossing, book.above_ts)
        return crossing + self.cooldown

    def review_at(self, book: Book) -> float | None:
        if book.due is None or book.emitted_due == book.due:
            return None
        start = self._day_starts.get(book.due)
        if start is None:
            if len(self._day_starts) > 4096:
                self._day_starts.clear()
            start = datetime.combine(date.fromisoformat(book.due), time(0), tzinfo=self.tz).timestamp()
            self._day_starts[book.due] = start
        return start

    def next_deadline(self, book: Book) -> float | None:
        """The earliest timed move pending (review due, override expiry, downgrade), as epoch seconds."""
        times = [t for t, _ in self._pending(book)]
        return min(times) if times else None

    def _pending(self, book: Book) -> list[tuple[float, int]]:
        out: list[tuple[float, int]] = []
        r = self.review_at(book)
        if r is not None:
            out.append((r, _REVIEW))
        if book.override is not None:
            out.append((float(book.override[1]), _OVERRIDE))
        d = self.downgrade_at(book)
        if d is not None:
            out.append((d, _DOWNGRADE))
        return out

    def _first_due(self, book: Book, now: float) -> tuple[float, int] | None:
        """The earliest of ``_pending`` at or before ``now`` (ties in its order), or None: asked on every
        event, so without building lists."""
        first: tuple[float, int] | None = None
        r = self.review_at(book)
        if r is not None and r <= now:
            first = (r, _REVIEW)
        if book.override is not None:
            o = (float(book.override[1]), _OVERRIDE)
            if o[0] <= now and (first is None or o < first):
                first = o
        d = self.downgrade_at(book)
        if d is not None and d <= now and (first is None or (d, _DOWNGRADE) < first):
            first = (d, _DOWNGRADE)
        return first

    def day(self, t: float) -> date:
        return datetime.fromtimestamp(t, self.tz).date()

    # ------------------------------------------------------------------------------- timed moves
    def advance(self, ctx: CustomerContext, book: Book, now: float, *, event: bool = True) -> Moves:
        """Every timed move due up to ``now``, each at its own time, in time order. A punctuation
        (``event=False``) leaves the book's clock where the last move put it, so the state is exactly what
        the customer's next event would have left: the stream and ``replay`` stay identical."""
        moves = Moves()
        if book.review_base is None:
            self._restart_reviews(ctx, book, now)
        for _ in range(16):  # each move settles itself; the bound only guards against a bad setting
            due = self._first_due(book, now)
            if due is None:
                break
            t, kind = due
            at = datetime.fromtimestamp(t, UTC)
            book.clock = max(book.clock or t, t)
            if kind == _REVIEW:
                moves.reviews.append(self._review_due(ctx, book))
            elif kind == _OVERRIDE:
                tier, _, officer, _ = book.override or ("", 0, "", "")
                book.override = None
                self._evaluate(book, t)
                risk = self.publish(
                    ctx,
                    book,
                    t,
                    at,
                    f"Override to {tier} by {officer} expired at {at.isoformat()}; the computed tier applies",
                    force=True,
                )
                moves.risks.extend(risk)
            else:
                before = book.computed_tier
                book.computed_tier = self.band(self.total(book, t))
                book.above_ts = t
                line = self.downgrade_line(before or "low")
                moves.risks.extend(
                    self.publish(
                        ctx,
                        book,
                        t,
                        at,
                        f"Score stayed below {line:g} (the {before} band minus the margin) for "
                        f"{self.s.downgrade_cooldown_days:g} days",
                    )
                )
        if event:
            book.clock = max(book.clock or now, now)
        return moves

    def _review_due(self, ctx: CustomerContext, book: Book) -> ReviewDue:
        due = date.fromisoformat(book.due or "")
        book.emitted_due = book.due
        interval = self.card.review_interval_days[ctx.tier]  # type: ignore[index]
        since = (
            f"last review {book.last_review}"
            if book.last_review
            else f"tier {ctx.tier} since {book.review_base}"
        )
        return ReviewDue(
            customer_id=ctx.customer_id,
            tier=ctx.tier,
            due_date=due,
            last_review=None if book.last_review is None else date.fromisoformat(book.last_review),
            review_id=review_id(ctx.customer_id, due),
            reason=f"Periodic review of a {ctx.tier}-risk customer due on {due} (every {interval} days; {since}).",
        )

    def _restart_reviews(self, ctx: CustomerContext, book: Book, t: float) -> None:
        base = self.day(t)
        book.review_base = base.isoformat()
        interval = self.card.review_interval_days[ctx.tier]  # type: ignore[index]
        book.due = (base + timedelta(days=interval)).isoformat()
        book.emitted_due = None

    # ----------------------------------------------------------------------------- event moves
    def _evaluate(self, book: Book, t: float, *, rebase: bool = False) -> None:
        """Hysteresis: up at once; down only by the timed downgrade (or at once on a new profile)."""
        score = self.total(book, t)
        raw = self.band(score)
        cur = book.computed_tier
        if cur is None or rebase or TIER_RANK[raw] > TIER_RANK[cur]:
            book.computed_tier = raw
            book.above_ts = t
        elif score >= self.downgrade_line(cur):
            book.above_ts = t

    def on_profile(
        self, ctx: CustomerContext, book: Book, result: ScoreResult, t: float, at: datetime
    ) -> Moves:
        book.static_score, book.static_factors, book.static_reason = (
            result.score,
            dict(result.factors),
            result.reason,
        )
        self._evaluate(book, t, rebase=True)
        return Moves(risks=self.publish(ctx, book, t, at, result.reason.rstrip(".")))

    def on_alerts(
        self, ctx: CustomerContext, book: Book, alerts: list[Alert], t: float, at: datetime
    ) -> Moves:
        parts: list[str] = []
        for a in alerts:
            pts = self.s.alert_points.get(a.severity, 0.0) * self.s.detector_point_multiplier.get(
                a.detector, 1.0
            )
            if pts <= 0:
                continue
            entry = book.points.get(a.detector)
            book.points[a.detector] = [(self.decayed(entry, t) if entry else 0.0) + pts, t]
            parts.append(f"{a.severity} {a.detector} alert added {pts:g} points")
        if not parts:
            return Moves()
        self._evaluate(book, t)
        return Moves(risks=self.publish(ctx, book, t, at, "; ".join(parts).capitalize()))

    def on_override(
        self,
        ctx: CustomerContext,
        book: Book,
        tier: str | None,
        expires: float,
        officer: str,
        reason: str,
        t: float,
        at: datetime,
    ) -> Moves:
        why = reason[: self.s.override_reason_max_chars]
        if tier is None:
            if book.override is None:
                return Moves()
            book.override = None
            self._evaluate(book, t)
            return Moves(
                risks=self.publish(
                    ctx,
                    book,
                    t,
                    at,
                    f"Override lifted by {officer}: {why}; the computed tier applies",
                    force=True,
                )
            )
        book.override = [tier, expires, officer, why]
        until = datetime.fromtimestamp(expires, UTC).isoformat()
        return Moves(
            risks=self.publish(
                ctx, book, t, at, f"Officer {officer} pins tier {tier} until {until}: {why}", force=True
            )
        )

    def on_review(
        self,
        ctx: CustomerContext,
        book: Book,
        outcome: str,
        tier: str | None,
        officer: str,
        reason: str,
        t: float,
        at: datetime,
    ) -> Moves:
        self._restart_reviews(ctx, book, t)
        book.last_review = book.review_base
        why = reason[: self.s.override_reason_max_chars]
        text = f"Review completed by {officer} ({outcome.replace('_', ' ')}): {why}"
        if outcome == "tier_changed" and tier is not None:
            interval = self.card.review_interval_days[tier]  # type: ignore[index]
            due = self.day(t) + timedelta(days=interval)
            expires = datetime.combine(due, time(0), tzinfo=self.tz).timestamp()
            book.override = [tier, expires, officer, why]
            text += f"; tier {tier} holds until the next review on {due}"
        return Moves(risks=self.publish(ctx, book, t, at, text, force=True))

    # ---------------------------------------------------------------------------------- publish
    def publish(
        self, ctx: CustomerContext, book: Book, t: float, at: datetime, why: str, *, force: bool = False
    ) -> list[CustomerRisk]:
        """A CustomerRisk when the published tier or score changes (or ``force``): every contribution in
        ``factors`` and what moved it in ``reason``. The new tier drives the detectors from the next event."""
        computed = book.computed_tier or self.band(self.total(book, t))
        score = round(self.total(book, t), 2)
        factors = (
            dict(book.static_factors) if book.static_score is not None else {"no_profile": self.base(book)}
        )
        for d, pts in sorted(self.behaviour(book, t).items()):
            if pts >= 0.005:
                factors[f"behaviour.{d}"] = round(pts, 2)
        tier = computed
        if book.override is not None:
            tier = book.override[0]
            low = self.bands[tier]
            high = {"low": self.bands["medium"], "medium": self.bands["high"], "high": 100.01}[tier] - 0.01
            moved = round(min(max(score, low), high) - score, 2)
            factors["override"] = moved
            score = round(score + moved, 2)
        score = min(100.0, max(0.0, score))
        if not force and tier == ctx.tier and score == ctx.score:
            return []
        previous = ctx.tier if ctx.score is not None else None
        if tier != ctx.tier or previous is None:
            ctx.tier = tier
            self._restart_reviews(ctx, book, t)
        ctx.score, ctx.factors = score, factors
        if previous is not None and previous != tier:
            reason = f"Tier {previous} -> {tier}. {why}; score {score:.1f}/100."
        else:
            reason = f"{why}; score {score:.1f}/100, tier {tier}."
        return [
            CustomerRisk(
                customer_id=ctx.customer_id,
                tier=tier,
                score=score,
                previous_tier=previous,
                factors=factors,
                updated_at=at,
                next_review_due=date.fromisoformat(book.due or self.day(t).isoformat()),
                reason=reason,
            )
        ]
