"""Every preset quotes, for each rule it prices, the clause of its document (``[clauses]``).

The web console and ``attendd explain`` show beside every deduction "the clause of the preset's
document" that prices it (``daemon.explain.clause_of``: ``policy.clauses[rule]``, else the
document's name). So, for every preset of ``rules.PRESETS``:

  - every rule it prices has a non-empty clause — each non-zero ``[points]`` key, each
    conversion's ``to``, each allowance's ``rule`` (points > 0), ``leave_over_limit`` when a leave
    limit costs points, ``chief_offsite`` when the window's chief on-site rule costs points;
  - its clauses name only rules it prices or could emit (``serious_late`` falls back to the
    points of ``late``), none it never charges;
  - each clause is "reference：the document's words" (a full-width colon), and a value the document
    does not give says so: "本中心默认（文件未规定）：reason".

And ``Policy.clauses`` refuses, with a message naming ``clauses``, a key that is no rule a policy can
produce, and an empty clause.
"""

from __future__ import annotations

import pytest

from rules import PRESETS, Policy, RulesError, resolve_policy
from rules.policy import policy_problems

SITE_DEFAULT = "本中心默认（文件未规定）："


def priced(policy: Policy) -> set[str]:
    """The rules ``policy`` charges points for (the ``rule`` of the deductions it can make)."""
    out = {kind for kind, pts in policy.points.model_dump().items() if pts}
    out |= {c.to for c in policy.conversions}
    out |= {a.rule for a in policy.allowances if a.points}
    if any(lim.points for lim in policy.leave_limits):
        out.add("leave_over_limit")
    if policy.window.chief_onsite_min and policy.window.chief_offsite_points:
        out.add("chief_offsite")
    if policy.day.serious_late_minutes and (policy.points.serious_late or policy.points.late):
        out.add("serious_late")
    return out


def could_emit(policy: Policy) -> set[str]:
    """What ``policy`` prices, and ``serious_late`` where it is priced as a late (a window that sets
    ``day.serious_late_minutes``)."""
    return priced(policy) | ({"serious_late"} if policy.points.late else set())


@pytest.fixture(scope="module", params=PRESETS)
def policy(request: pytest.FixtureRequest) -> Policy:
    return resolve_policy("hall", request.param)


def test_every_priced_rule_has_its_clause(policy: Policy) -> None:
    """Every rule the preset prices has a non-empty clause."""
    missing = sorted(r for r in priced(policy) if not policy.clauses.get(r, "").strip())
    assert not missing, f"{policy.name}: no clause for {', '.join(missing)}"


def test_clauses_name_only_rules_the_preset_charges(policy: Policy) -> None:
    """The clauses name only rules the preset prices or could emit."""
    extra = sorted(set(policy.clauses) - could_emit(policy))
    assert not extra, f"{policy.name}: clauses for rules it never charges: {', '.join(extra)}"


def test_each_clause_is_a_reference_and_the_words(policy: Policy) -> None:
    """Each clause is "reference：words" (a full-width colon), or "本中心默认（文件未规定）：reason"."""
    for rule, clause in policy.clauses.items():
        ref, sep, words = clause.partition("：")
        assert sep and ref.strip() and words.strip(), f"{policy.name}.clauses.{rule}: {clause!r}"
        if clause.startswith("本中心默认"):
            assert clause.startswith(SITE_DEFAULT), f"{policy.name}.clauses.{rule}: {clause!r}"


def test_an_unknown_or_empty_clause_is_refused() -> None:
    """An override's clause for no rule a policy can produce, or with no words, is refused
    naming ``clauses``; an override's clause for a rule replaces the preset's."""
    with pytest.raises(RulesError) as err:
        resolve_policy("x", "luoshan", {"clauses": {"nope": "附件1：不存在的条款"}})
    assert err.value.path == "policies.x.clauses" and "nope" in str(err.value)
    with pytest.raises(RulesError) as err:
        resolve_policy("x", "luoshan", {"clauses": {"late": " "}})
    assert err.value.path == "policies.x.clauses" and "late" in str(err.value)
    problems = policy_problems("x", "luoshan", {"clauses": {"nope": "…"}})
    assert [p.path for p in problems] == ["policies.x.clauses"]
    mine = resolve_policy("x", "luoshan", {"clauses": {"late": "本中心默认（文件未规定）：窗口另定"}})
    assert mine.clauses["late"] == "本中心默认（文件未规定）：窗口另定"
    assert mine.clauses["early"] == resolve_policy("x", "luoshan").clauses["early"]
