"""Whom a third-party follow-up e-mails, and how (spec 3.7; seeds 003, 004).

- An installer: the "Unresponsive Install" e-mail, the homeowner in CC, no commitment e-mails.
- Concert/Beam customers (or the party `gtr`): Green Tech Renewables instead of the installer,
  "Unresponsive Beam", never the homeowner in CC, and the "Unresponsive Beam HO" commitment
  e-mail to the homeowner every week until resolved.
- The service department (Omnidian): the seed-003 "Mutual Customer" e-mail, no CC (seed 003:
  "DO NOT add the Homeowner in the CC field"), and one commitment e-mail a week later."""

from __future__ import annotations

from domain.followup import FollowUpPolicy, FollowUpRequest, FollowUpRoute


def followup_route(req: FollowUpRequest, policy: FollowUpPolicy) -> FollowUpRoute:
    """The route of a follow-up request."""
    route = _by_party(req, policy)
    ho = req.homeowner
    if route.commitments != "none" and not (ho.email or ho.phone):
        return route.model_copy(update={"commitments": "none", "commitment_template": None,
                                        "commitments_unreachable": True})
    return route


def _by_party(req: FollowUpRequest, policy: FollowUpPolicy) -> FollowUpRoute:
    if req.concert_beam or req.party == "gtr":
        return FollowUpRoute(party="gtr", to_email=policy.gtr_email,
                             template="unresponsive_beam", cc_homeowner=False,
                             commitments="weekly", commitment_template="unresponsive_beam_ho")
    assert req.party_email is not None  # the request's validator requires it
    if req.party == "omnidian":
        return FollowUpRoute(party="omnidian", to_email=req.party_email,
                             template="mutual_customer", cc_homeowner=False,
                             commitments="once",
                             commitment_template="service_department_commitment")
    return FollowUpRoute(party="installer", to_email=req.party_email,
                         template="unresponsive_install",
                         cc_homeowner=req.homeowner.email is not None, commitments="none")
