"""/api/v1/routing/rules: the ordered routing table (admin only), through the same rules
service as the console's, so integrations and tests can configure routing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.api.blueprint import ApiBlueprint
from app.api.errors import fail
from app.api.lists import Page, paginate
from app.api.schemas.common import ListArgs
from app.api.schemas.routing import RuleIn, RuleOut, RulePage, RulePatch
from app.db import db
from app.followup.models import RoutingRule
from app.followup.rules import CONDITIONS, RuleRejected, delete_rule, place_rule, save_rule
from app.models import User

blp = ApiBlueprint(
    "Routing",
    __name__,
    url_prefix="/api/v1/routing",
    description="Routing rules: which rep or weighted pool of reps a lead goes to.",
)

ADMIN = ("admin",)
# Which API field shows a message the rules service gives for one of its fields.
FIELD_FOR = {
    **{name: f"conditions.{name}" for name in CONDITIONS},
    "target_rep_id": "rep",
    "target": "rep",
    "members": "pool",
}
NO_SUCH_REP = "There is no sales rep with this email."


def shown(rule: RoutingRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "active": rule.active,
        "alert_on_registration": rule.alert_on_registration,
        "position": rule.position,
        "conditions": {name: list(getattr(rule, name)) for name in CONDITIONS},
        "rep": rule.target_rep.email if rule.target_rep is not None else None,
        "pool": [{"rep": member.rep.email, "weight": member.weight} for member in rule.members],
    }


def _rule(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        fail(404, f"There is no routing rule {rule_id}.")
    return rule


def _rep_id(email: str | None, field: str) -> int | None:
    if email is None:
        return None
    rep_id = db.session.scalar(
        select(User.id).where(User.role == "rep", func.lower(User.email) == email.lower())
    )
    if rep_id is None:
        fail(422, NO_SUCH_REP, {field: NO_SUCH_REP})
    return rep_id


def _service_values(values: dict[str, Any], rule: RoutingRule | None) -> dict[str, Any]:
    """The rules service's values: the rule as it is (if any), changed by the API's."""
    current: dict[str, Any] = {
        "name": "",
        "active": True,
        "alert_on_registration": False,
        "target_rep_id": None,
        "members": [],
    }
    if rule is not None:
        current = {
            "name": rule.name,
            "active": rule.active,
            "alert_on_registration": rule.alert_on_registration,
            **{name: list(getattr(rule, name)) for name in CONDITIONS},
            "target_rep_id": rule.target_rep_id,
            "members": [(member.rep_id, member.weight) for member in rule.members],
        }
    flags = ("name", "active", "alert_on_registration")
    current.update({name: values[name] for name in flags if name in values})
    current.update(values.get("conditions") or {})
    if "rep" in values or "pool" in values:
        current["target_rep_id"] = _rep_id(values.get("rep"), "rep")
        current["members"] = [
            (_rep_id(member["rep"], f"pool.{index}.rep"), member["weight"])
            for index, member in enumerate(values.get("pool") or [])
        ]
    return current


def _save(rule: RoutingRule | None, values: dict[str, Any]) -> dict[str, Any]:
    try:
        saved = save_rule(rule, _service_values(values, rule))
    except RuleRejected as refusal:
        renamed = {FIELD_FOR.get(name, name): why for name, why in refusal.fields.items()}
        raise RuleRejected(fields=renamed) from None
    if "position" in values:
        place_rule(saved, values["position"])
    return shown(saved)


@blp.route("/rules", methods=["GET"])
@blp.allow(*ADMIN)
@blp.arguments(ListArgs, location="query")
@blp.response(200, RulePage)
def list_rules(args: dict[str, Any]) -> Page:
    """List the routing rules in the order they are tried (lowest position first)."""
    page = paginate(select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id), args)
    page.items = [shown(rule) for rule in page.items]
    return page


@blp.route("/rules", methods=["POST"])
@blp.allow(*ADMIN)
@blp.arguments(RuleIn)
@blp.response(201, RuleOut)
def create_rule(values: dict[str, Any]) -> dict[str, Any]:
    """Add a routing rule: conditions, then one `rep` or a weighted `pool`.

    Refused with 422 naming the field, beyond what the schema says: an unknown country or
    region, a malformed email domain, a `rep` or pool member who is not a sales rep, both
    `rep` and `pool` or neither, or a rep twice in the pool.
    """
    return _save(None, values)


@blp.route("/rules/<int(max=2147483647):rule_id>", methods=["PATCH"])
@blp.allow(*ADMIN)
@blp.arguments(RulePatch(partial=True))
@blp.response(200, RuleOut)
@blp.alt_response(404, response="NOT_FOUND")
def change_rule(values: dict[str, Any], rule_id: int) -> dict[str, Any]:
    """Change some of a rule's fields; the conditions given replace those of the same name.
    Giving `rep` or `pool` replaces where the rule sends leads."""
    return _save(_rule(rule_id), values)


@blp.route("/rules/<int(max=2147483647):rule_id>", methods=["DELETE"])
@blp.allow(*ADMIN)
@blp.response(204)
@blp.alt_response(404, response="NOT_FOUND")
def remove_rule(rule_id: int) -> None:
    """Remove a routing rule; follow-ups it assigned keep their rep."""
    delete_rule(_rule(rule_id))
