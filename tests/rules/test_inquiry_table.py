# ruff: noqa: E501 - the table reads as a table only at full width
"""Spec 3.8's routing table written out by hand from the seeds (001: the M3 split, the
standard reply, "we do not provide cleaning", the unresponsive-Omnidian procedure; 002: the
reactivation steps; 003: RIC warranties, property damage against the installer), checked row
by row against the rule. `docs/contract/inquiry-routing.md` is generated from the rule, so it
cannot guard the rule; this table can.

Columns: inquiry, agreement, M3 approved, already contacted Omnidian (`*`: either), then
action, reply template, outcome, follow-up party. Every one of the 9 x 2 x 2 x 2 = 72 cases
is covered exactly once (checked below)."""

from __future__ import annotations

import itertools

import pytest

from domain.rules.inquiry_routing import INQUIRY_TYPES, route_inquiry

TABLE = """
# -- any agreement, any milestone ---------------------------------------------------------------
cleaning                       ric  no   *    refuse         cleaning_not_provided        refused                            -
cleaning                       ric  yes  *    refuse         cleaning_not_provided        refused                            -
cleaning                       ppa  no   *    refuse         cleaning_not_provided        refused                            -
cleaning                       ppa  yes  *    refuse         cleaning_not_provided        refused                            -
reactivation                   ric  no   *    reactivation   -                            reactivation_started               -
reactivation                   ric  yes  *    reactivation   -                            reactivation_started               -
reactivation                   ppa  no   *    reactivation   -                            reactivation_started               -
reactivation                   ppa  yes  *    reactivation   -                            reactivation_started               -
# -- M3 not approved: the installer is responsible (seed 001 step 2) --------------------------
monitoring_access              ric  no   *    reply          m3_not_approved              referred_to_installer              -
monitoring_access              ppa  no   *    reply          m3_not_approved              referred_to_installer              -
monitoring_data                ric  no   *    reply          m3_not_approved              referred_to_installer              -
monitoring_data                ppa  no   *    reply          m3_not_approved              referred_to_installer              -
maintenance_request            ric  no   *    reply          m3_not_approved_installer    referred_to_installer              -
maintenance_request            ppa  no   *    reply          m3_not_approved_installer    referred_to_installer              -
damage_report                  ric  no   *    reply          m3_not_approved_installer    referred_to_installer              -
damage_report                  ppa  no   *    reply          m3_not_approved_installer    referred_to_installer              -
outage                         ric  no   *    reply          m3_not_approved_installer    referred_to_installer              -
outage                         ppa  no   *    reply          m3_not_approved_installer    referred_to_installer              -
service_department_escalation  ric  no   *    reply          m3_not_approved_installer    referred_to_installer              -
service_department_escalation  ppa  no   *    reply          m3_not_approved_installer    referred_to_installer              -
personal_property_damage       ric  no   *    followup       followup_started             followup_started                   installer
personal_property_damage       ppa  no   *    followup       followup_started             followup_started                   installer
# -- M3 approved, RIC: the contract package's warranties (seed 003) ---------------------------
monitoring_access              ric  yes  *    reply          ric_warranty_referral        referred_to_warranty               -
monitoring_data                ric  yes  *    reply          ric_warranty_referral        referred_to_warranty               -
maintenance_request            ric  yes  *    reply          ric_warranty_referral        referred_to_warranty               -
damage_report                  ric  yes  *    reply          ric_warranty_referral        referred_to_warranty               -
outage                         ric  yes  *    reply          ric_warranty_referral        referred_to_warranty               -
service_department_escalation  ric  yes  *    reply          ric_warranty_referral        referred_to_warranty               -
personal_property_damage       ric  yes  *    followup       followup_started             followup_started                   installer
# -- M3 approved, PPA: the service department (Omnidian) ---------------------------------------
maintenance_request            ppa  yes  *    om_case        inquiry_case_opened          om_case                            -
outage                         ppa  yes  *    om_case        inquiry_case_opened          om_case                            -
service_department_escalation  ppa  yes  *    followup       followup_started             followup_started                   omnidian
monitoring_access              ppa  yes  no   warm_transfer  service_department_referral  transferred_to_service_department  -
monitoring_access              ppa  yes  yes  followup       followup_started             followup_started                   omnidian
monitoring_data                ppa  yes  no   warm_transfer  service_department_referral  transferred_to_service_department  -
monitoring_data                ppa  yes  yes  followup       followup_started             followup_started                   omnidian
damage_report                  ppa  yes  no   warm_transfer  service_department_referral  transferred_to_service_department  -
damage_report                  ppa  yes  yes  followup       followup_started             followup_started                   omnidian
personal_property_damage       ppa  yes  no   warm_transfer  service_department_referral  transferred_to_service_department  -
personal_property_damage       ppa  yes  yes  followup       followup_started             followup_started                   omnidian
"""

Row = tuple[str, str, bool, bool, str, str | None, str, str | None]


def _rows() -> list[Row]:
    rows: list[Row] = []
    for line in TABLE.strip().splitlines():
        if line.startswith("#"):
            continue
        inquiry, agreement, m3, contacted, action, reply, outcome, party = line.split()
        for c in ((False, True) if contacted == "*" else (contacted == "yes",)):
            rows.append((inquiry, agreement, m3 == "yes", c, action,
                         None if reply == "-" else reply, outcome,
                         None if party == "-" else party))
    return rows


ROWS = _rows()


def test_the_table_covers_every_case_once() -> None:
    keys = [r[:4] for r in ROWS]
    assert len(keys) == len(set(keys)) == 72
    assert set(keys) == set(itertools.product(INQUIRY_TYPES, ("ric", "ppa"), (False, True),
                                              (False, True)))


@pytest.mark.parametrize("row", ROWS, ids=lambda r: "-".join(str(x) for x in r[:4]))
def test_the_rule_routes_each_row_as_the_seeds_say(row: Row) -> None:
    inquiry, agreement, m3, contacted, action, reply, outcome, party = row
    route = route_inquiry(inquiry, agreement, m3, contacted)  # type: ignore[arg-type]
    assert (route.action, route.reply, route.outcome, route.party) == (
        action, reply, outcome, party)
    assert route.why
