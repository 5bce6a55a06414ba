"""The named message templates of the support procedures (seeds 001-004, spec 3.6-3.8): the
quick replies the seeds name ("Unresponsive Install", "Unresponsive Beam", "Unresponsive Beam HO",
"Unresponsive Done"), the "Mutual Customer" e-mail and the Sales referral comment of seed 003,
and the standard replies of the inquiry procedure.

A workflow names a template and gives its non-personal placeholders (`params`); the
homeowner's own details (`homeowner_name`, `homeowner_address`, `homeowner_phone`,
`homeowner_email`) and other personal text (`best_time_to_reach`, `concern`) are filled in by
the activity that delivers the message, from the request, so they never reach the record store,
a log or a summary. `render` refuses a message with an unfilled placeholder: a half-written
e-mail to an installer is worse than none."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Audience = Literal["homeowner", "party", "crm"]

# Placeholders filled from personal data at delivery time, never stored.
PERSONAL_PLACEHOLDERS = frozenset({"homeowner_name", "homeowner_address", "homeowner_phone",
                                   "homeowner_email", "best_time_to_reach", "concern"})


@dataclass(frozen=True)
class Template:
    """One named message: who it is for, the seed's name for it, subject and body with
    `{placeholder}` fields."""

    name: str
    audience: Audience
    seed_name: str
    subject: str
    body: str

    @property
    def placeholders(self) -> frozenset[str]:
        """Every `{field}` the subject and body use."""
        fields: set[str] = set()
        for text in (self.subject, self.body):
            fields.update(f for _, f, _, _ in string.Formatter().parse(text) if f)
        return frozenset(fields)


@dataclass(frozen=True)
class RenderedMessage:
    """A template with every placeholder filled: what the e-mail or text gateway sends."""

    template: str
    subject: str
    body: str


_SIGNATURE = "\n\nThank you,\n{agent}"

TEMPLATES: dict[str, Template] = {t.name: t for t in (
    # ---- third-party follow-up (seeds 003, 004; spec 3.7) ------------------------------------
    Template(
        "unresponsive_install", "party", "Unresponsive Install",
        "Homeowner concern needs your response (case {case_number})",
        "Hello,\n\nOur mutual customer {homeowner_name}, at {homeowner_address}, has not been "
        "able to reach you about a concern with their solar system: {concern}\n\nPlease contact "
        "the homeowner by phone at {homeowner_phone} (best time to reach: {best_time_to_reach})"
        " and reply to this e-mail with an update." + _SIGNATURE),
    Template(
        "mutual_customer", "party", "Mutual Customer (seed 003)",
        "Mutual customer concern (case {case_number})",
        "Hello,\n\nMutual Customer, {homeowner_name}, at address, {homeowner_address}, reached "
        "out with a concern of {concern}. We would like your assistance in receiving a response "
        "or update regarding this complaint along with the below questions. They can be reached "
        "at {homeowner_phone} (best time to reach: {best_time_to_reach}).\n\n"
        "- Do you have recent communications with the homeowner? What does that look like?\n"
        "- Have you addressed or contacted the homeowner about this specific concern? If not, "
        "why? If so, what updates can you provide?\n"
        "- How do you plan to make this right for the homeowner? Or if you do not feel they "
        "need to, can you provide details on why along with any documentation?" + _SIGNATURE),
    Template(
        "unresponsive_beam", "party", "Unresponsive Beam",
        "Concert/Beam customer concern (case {case_number})",
        "Hello Green Tech Renewables,\n\nOur Concert/Beam customer {homeowner_name}, at "
        "{homeowner_address}, has not heard from their installer about this concern: {concern}"
        "\n\nPlease contact the homeowner by phone at {homeowner_phone} (best time to reach: "
        "{best_time_to_reach}) and send us an update on the resolution." + _SIGNATURE),
    Template(
        "unresponsive_beam_ho", "homeowner", "Unresponsive Beam HO",
        "Update on your case {case_number}",
        "Hello {homeowner_name},\n\nWe are still working with Green Tech Renewables to get you "
        "an update on your concern. We will write to you again every week until it is "
        "resolved (update {update_no})." + _SIGNATURE),
    Template(
        "service_department_commitment", "homeowner", "Commitment e-mail (seed 003)",
        "Update on your case {case_number}",
        "Hello {homeowner_name},\n\nWe contacted our service department a week ago about your "
        "concern and are working to get you an answer. We will be in touch as soon as we hear "
        "back." + _SIGNATURE),
    Template(
        "unresponsive_done", "homeowner", "Unresponsive Done",
        "Your case {case_number} is resolved",
        "Hello {homeowner_name},\n\nThank you for your patience. We are glad the concern has "
        "been addressed, and we are closing your case.\n\nClosure comments: {closure_comments}"
        + _SIGNATURE),
    Template(
        "sales_referral_comment", "crm", "Referral Comment Template (seed 003)",
        "Unresponsive Installer",
        "The installer has been unresponsive in our outreach attempts to resolve the homeowner's"
        " concern of {concern}. We would like your assistance in receiving a response or update "
        "from the installer regarding:\n"
        "- Do they have recent communications with the homeowner? What does that look like?\n"
        "- Have they addressed or contacted the homeowner about this specific concern? If not, "
        "why? If so, what updates can they provide?\n"
        "- How do they plan to make this right for the homeowner? Or if they do not feel they "
        "need to, can they provide details on why along with any documentation?" + _SIGNATURE),
    # ---- reactivation (seeds 001, 002; spec 3.6) -------------------------------------------
    Template(
        "reactivation_case_created", "homeowner", "Reactivation initial reply",
        "Your reactivation request: case {case_number}",
        "Hello {homeowner_name},\n\nWe have created an internal case to review the status of "
        "your payment and make sure everything is in order for the reactivation of your "
        "system. Your case number is {case_number}." + _SIGNATURE),
    Template(
        "reactivation_payment_clearing", "homeowner", "Reactivation: up to 10 business days",
        "Your reactivation request: case {case_number}",
        "Hello {homeowner_name},\n\nYour payment was made less than {clearing_business_days} "
        "business days ago. It may take up to {clearing_business_days} business days to clear "
        "and to reactivate your system; we expect to review it on {clears_on}." + _SIGNATURE),
    Template(
        "reactivation_payment_not_verified", "homeowner", "Reactivation: payment not verified",
        "Your reactivation request: case {case_number}",
        "Hello {homeowner_name},\n\nWe could not verify your payment, so your system cannot be "
        "reactivated yet. We are transferring you to our Account Servicing team, who will "
        "help you with the payment." + _SIGNATURE),
    Template(
        "system_reactivated", "homeowner", "Reactivation: system active",
        "Your system is active again (case {case_number})",
        "Hello {homeowner_name},\n\nYour payment has been confirmed and your solar system has "
        "been reactivated." + _SIGNATURE),
    # ---- support inquiry standard replies (seeds 001, 002, 003; spec 3.8) --------------------
    Template(
        "m3_not_approved", "homeowner", "Standard reply: M3 not approved",
        "Your inquiry (case {case_number})",
        "Based on the current status of your job in our system, the final milestone has not "
        "yet been completed, and system production monitoring is currently unavailable. For "
        "further assistance, please contact your installer directly." + _SIGNATURE),
    Template(
        "m3_not_approved_installer", "homeowner", "Standard reply: M3 not approved (not about "
        "monitoring)",
        "Your inquiry (case {case_number})",
        "Based on the current status of your job in our system, the final milestone has not "
        "yet been completed, so your installer is responsible for your system for now. For "
        "further assistance, please contact your installer directly." + _SIGNATURE),
    Template(
        "ric_warranty_referral", "homeowner", "Standard reply: RIC warranties",
        "Your inquiry (case {case_number})",
        "For system maintenance or production issues, please refer to your contract package "
        "for details about your manufacturer and installer warranties." + _SIGNATURE),
    Template(
        "service_department_referral", "homeowner", "Standard reply: service department",
        "Your inquiry (case {case_number})",
        "Our service department, {service_department}, takes care of your system. We are "
        "transferring you to them; you can also reach them at {service_department_contact}."
        + _SIGNATURE),
    Template(
        "cleaning_not_provided", "homeowner", "Standard reply: cleaning",
        "Your inquiry (case {case_number})",
        "We do not provide cleaning as part of our maintenance services." + _SIGNATURE),
    Template(
        "inquiry_case_opened", "homeowner", "Standard reply: case opened",
        "Your inquiry (case {case_number})",
        "We have opened a case for your request ({topic}); we will keep you informed as it "
        "progresses." + _SIGNATURE),
    Template(
        "followup_started", "homeowner", "Standard reply: follow-up started",
        "Your inquiry (case {case_number})",
        "We have contacted {party_name} about your concern and asked them to get back to you. "
        "We will follow up until it is resolved." + _SIGNATURE),
)}


def template(name: str) -> Template:
    """The template of that name; KeyError names the known ones."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise KeyError(f"no template {name!r} (known: {', '.join(sorted(TEMPLATES))})") from None


def render(name: str, values: Mapping[str, str]) -> RenderedMessage:
    """Fill a template; ValueError names the placeholders left without a value."""
    t = template(name)
    missing = sorted(t.placeholders - set(values))
    if missing:
        raise ValueError(f"template {name!r} is missing {', '.join(missing)}")
    fields = {k: values[k] for k in t.placeholders}
    return RenderedMessage(template=name, subject=t.subject.format(**fields),
                           body=t.body.format(**fields))
