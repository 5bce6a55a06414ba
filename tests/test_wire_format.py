"""The wire format of spec section 5 parses as written there: integrations code against it."""

from __future__ import annotations

import json
from datetime import timedelta

from domain.om import OmCaseInput

SPEC_EXAMPLE = """
{"system_id": "SYS-1001", "case_reason": "system_failure", "source": "sunrun_monitoring",
 "installer": "sunrun", "installer_accepting_service_work": true,
 "agreement_type": "ppa", "protection_plus": false, "acquisition_channel": "retail",
 "zip": "94103", "market": "CA", "homeowner": {"name": "Ana Ruiz", "phone": "+14155550100"},
 "description": "inverter shows error 21", "hazard": null,
 "policy": {"remote_fix_timeout": "PT24H", "text_attempts": 3, "text_interval": "PT48H",
            "call_attempts": 3, "outcome_reminder_after": "P2D",
            "performance_validation_period": "P7D", "failed_appointments_to_escalate": 2,
            "contact_hours": {"start": "08:00", "end": "20:00"}}}
"""


def test_the_spec_example_input_parses_with_iso_durations() -> None:
    inp = OmCaseInput.model_validate_json(SPEC_EXAMPLE)
    assert inp.policy.text_interval == timedelta(hours=48)
    assert inp.policy.outcome_reminder_after == timedelta(days=2)
    assert inp.homeowner.time_zone is None  # derived from the market by the case


def test_durations_may_be_seconds() -> None:
    data = json.loads(SPEC_EXAMPLE)
    data["policy"]["text_interval"] = 172800
    assert OmCaseInput.model_validate(data).policy.text_interval == timedelta(hours=48)


def test_an_unknown_field_is_named() -> None:
    data = json.loads(SPEC_EXAMPLE)
    data["system"] = "SYS-1"
    try:
        OmCaseInput.model_validate(data)
    except ValueError as err:
        assert "system\n  Extra inputs are not permitted" in str(err)
    else:
        raise AssertionError("accepted an unknown field")


def test_the_shipped_example_inputs_parse() -> None:
    from pathlib import Path

    from domain.processes import PROCESSES

    examples = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*-case.json"))
    assert examples
    for path in examples:
        process = PROCESSES[path.name.removesuffix("-case.json")]
        process.input_model.model_validate_json(path.read_text())


HOMEOWNER = '{"name": "Ana Ruiz", "phone": "+14155550100", "email": "ana@example.com"}'


def test_the_spec_examples_of_the_support_processes_parse() -> None:
    """Spec 5's `ReactivationWorkflow`, `PartnerFollowUpWorkflow` and `SupportInquiryWorkflow`
    inputs, with the fields and policy names written there."""
    from datetime import date

    from domain.followup import FollowUpInput
    from domain.inquiry import SupportInquiryInput
    from domain.reactivation import ReactivationInput

    re_inp = ReactivationInput.model_validate_json(
        '{"contract_id": "C-1", "homeowner": ' + HOMEOWNER + ', "payment_date": "2026-11-16",'
        ' "payment_proof": "CONF-123", "policy": {"clearing_business_days": 10,'
        ' "verification_reminder_business_days": 2, "holidays": ["2026-11-26"]}}')
    assert re_inp.policy.holidays == [date(2026, 11, 26)]
    fu = FollowUpInput.model_validate_json(
        '{"case_id": "CS-1", "party": "installer", "party_email": "svc@installer.example",'
        ' "concern": "not connected", "homeowner": ' + HOMEOWNER + ','
        ' "best_time_to_reach": "evenings", "concert_beam": false,'
        ' "policy": {"no_contact_referral_after": "P2D", "commitment_interval": "P7D"}}')
    assert fu.policy.commitment_interval == timedelta(days=7)
    inq = SupportInquiryInput.model_validate_json(
        '{"case_id": "INQ-1", "system_id": "SYS-1", "agreement_type": "ric",'
        ' "m3_approved": true, "inquiry": "monitoring_data",'
        ' "already_contacted_omnidian": false, "homeowner": ' + HOMEOWNER + ', "details": {}}')
    assert inq.inquiry == "monitoring_data"


def test_the_type_adapter_of_a_model_is_built_once_for_every_payload_converter() -> None:
    """Issue 21: the SDK makes a payload converter per serialization context; each used to
    build a pydantic TypeAdapter for every payload it decoded."""
    from domain.case import CaseSummary
    from infra.wire import FieldServicePayloadConverter

    summary = CaseSummary(case_id="om-SYS-1", process="om_simplified", stage="closed")
    converters = [FieldServicePayloadConverter() for _ in range(3)]
    [payload] = converters[0].to_payloads([summary])
    before = None
    for converter in converters:
        [decoded] = converter.from_payloads([payload], [CaseSummary])
        assert decoded == summary
        json_converter = next(c for c in converter.converters.values()
                              if hasattr(c, "_type_adapter"))
        info = json_converter._type_adapter.cache_info()
        if before is not None:
            assert info.misses == before.misses and info.hits == before.hits + 1
        before = info
