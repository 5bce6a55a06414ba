"""`RemovalReinstallWorkflow`: a removal-and-reinstall project (spec 3.5), company-managed in
five steps or Remi-managed in four, for months, one block per stage.

Each step that waits for the field has an expected duration; past it, the project owner gets a
check-in task and (company-managed only: on a Remi project Remi is the homeowner's one voice,
spec 2.2) the homeowner a status update through the outbox, weekly, on the durable reminder
piece (`overrun-{stage}` series). `step_blocked` pauses that series and `step_unblocked`
resumes it with the time that was left. `damage_reported` starts a linked damage claim; a
claim that needs R&R adds its repairs here (`damage_repairs_added`) instead of starting a
second project, and the project reports its ending to its parent and those claims (spec 2.3).
A long project continues as new at its step, with its series' counts and due instants
intact."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.base import describe_span
    from domain.case import WaitingOn
    from domain.damage import DamageClaimInput
    from domain.events import Event
    from domain.links import claim_for_damage_found
    from domain.outbox import Holds
    from domain.processes import DAMAGE, RR, om_case_id
    from domain.reminders import Cadence
    from domain.rr import (
        AddedRepair,
        DamageRepairsAdded,
        DamageReported,
        ProjectEnded,
        QuoteApproved,
        ReinstallCompleted,
        ReinstallVerified,
        RemovalCompleted,
        RemovalReinstallInput,
        RemovalVerified,
        RoofingCompleted,
        RrPolicy,
        RrProject,
        StepBlocked,
        StepCompleted,
        StepRecord,
        StepUnblocked,
    )
    from domain.rules.hazard import is_hazardous
    from domain.rules.market_routing import rr_management
    from domain.rules.zones import calendar_zone
    from workflows.case import (
        CaseCommon,
        CaseWorkflow,
        Close,
        Ending,
        EventSpec,
        Series,
        events_table,
        pause,
        resume,
    )

PROJECT_CREATION = "project_creation"
REMOVAL = "removal"
ROOFING = "roofing_work"
REINSTALL = "reinstall"
COMPLETION = "completion"
REMI_INTAKE = "intake"
QUOTE_APPROVAL = "quote_approval"
VERIFY_REMOVAL = "verify_removal"
VERIFY_REINSTALL = "verify_reinstall"
CLOSING = "closing"

PROJECT_MANAGER = "project_manager"
REMI_COORDINATOR = "remi_coordinator"


@dataclass(frozen=True)
class Step:
    """A step that waits for the field: its stage, the event that ends it, and its expected
    duration under a policy."""

    stage: str
    done: type[StepCompleted]
    expected: Callable[[RrPolicy], timedelta]
    title: str
    # What the step is called in a damage R&R, when it does more there (step 3: the damage
    # repairs are done with the roof work).
    damage_title: str | None = None
    # Who must act for the step to end (`WaitingOn`): the company's crew, the homeowner (their
    # roofer, their acceptance of the quote), or Remi.
    waiting_on: WaitingOn = "field_tech"

    def waiting_on_for(self, variant: str) -> WaitingOn:
        """Who the step waits on in this variant: an elective project's roof work is the
        homeowner's roofer's; a damage project's is the company's repairs."""
        return "field_tech" if self.stage == ROOFING and variant == "damage" else self.waiting_on

    def title_for(self, variant: str, repairs_added: bool = False) -> str:
        """What operators and the homeowner read for this step (the damage repairs claims
        added are done with the roofing)."""
        damage = variant == "damage" or repairs_added
        return self.damage_title if damage and self.damage_title else self.title


COMPANY_STEPS = (
    Step(REMOVAL, RemovalCompleted, lambda p: p.removal_expected, "removal"),
    Step(ROOFING, RoofingCompleted, lambda p: p.roofing_expected, "roofing work",
         damage_title="roofing work and damage repairs", waiting_on="homeowner"),
    Step(REINSTALL, ReinstallCompleted, lambda p: p.reinstall_expected, "reinstall"),
)
# Remi removes, the roofer works, Remi reinstalls; the company verifies the two ends, so the
# reinstall verification is expected after the roofing and the reinstall durations.
REMI_STEPS = (
    Step(VERIFY_REMOVAL, RemovalVerified, lambda p: p.removal_expected, "removal",
         waiting_on="third_party"),
    Step(VERIFY_REINSTALL, ReinstallVerified,
         lambda p: p.roofing_expected + p.reinstall_expected, "reinstall",
         waiting_on="third_party"),
)
# Remi, company-quoted (spec 3.5): the homeowner accepts the company's quote before Remi
# removes the system.
QUOTE_STEP = Step(QUOTE_APPROVAL, QuoteApproved, lambda p: p.quote_approval_expected,
                  "quote approval", waiting_on="homeowner")
REMI_QUOTED_STEPS = (QUOTE_STEP, *REMI_STEPS)
STEP_STAGES = frozenset(s.stage for s in (*COMPANY_STEPS, *REMI_QUOTED_STEPS))
OPEN_STAGES = STEP_STAGES | {PROJECT_CREATION, REMI_INTAKE}
# A claim's damage repairs join a project up to its roofing step (spec 2.3, 3.5): on a Remi
# project, until the removal is verified (the roofer works after it).
REPAIRS_STAGES = frozenset({PROJECT_CREATION, REMOVAL, ROOFING, REMI_INTAKE, QUOTE_APPROVAL,
                            VERIFY_REMOVAL})
# Company-quoted Remi projects recorded before the quote step went straight to the removal.
QUOTE_STEP_PATCH = "rr-quote-approval"
# Runs recorded before spec 2.3 told nobody of their ending.
REPORTS_ENDING = "rr-reports-ending"


def overrun_series(stage: str) -> str:
    """The reminder series of a step's overrun updates."""
    return f"overrun-{stage}"


def _blocked_fits(case: RrProject, _: Event) -> str | None:
    return f"step {case.stage!r} is already blocked" if case.blocked else None


def _unblocked_fits(case: RrProject, _: Event) -> str | None:
    return None if case.blocked else f"step {case.stage!r} is not blocked"


def _block(case: RrProject, event: StepBlocked) -> None:
    case.blocked = True
    case.blocked_reason = event.reason
    case.bump("blocks")
    pause(case.reminder(overrun_series(case.stage)))


def _unblock(case: RrProject, _: Event) -> None:
    case.blocked = False
    case.blocked_reason = None
    resume(case.reminder(overrun_series(case.stage)))


def _damage_found(case: RrProject, event: DamageReported) -> None:
    case.claims_to_start.append(event)


def _repairs_fit(case: RrProject, event: DamageRepairsAdded) -> str | None:
    if any(r.claim_id == event.claim_id for r in case.added_repairs):
        return f"the repairs of {event.claim_id} are already part of this project"
    return None


def _add_repairs(case: RrProject, event: DamageRepairsAdded) -> None:
    case.added_repairs.append(AddedRepair(claim_id=event.claim_id, description=event.description,
                                          added_at=workflow.now(), stage=case.stage))


@workflow.defn(name="RemovalReinstallWorkflow")
class RemovalReinstallWorkflow(CaseWorkflow[RrProject]):
    """One execution per project (`rr-{system_id}-{project_no}`)."""

    PROCESS = "removal_reinstall"
    SPEC = RR
    inp: RemovalReinstallInput
    ESCALATE_TO = PROJECT_MANAGER
    EVENTS = events_table(
        *(EventSpec(s.done, stages=frozenset({s.stage}))
          for s in (*COMPANY_STEPS, *REMI_QUOTED_STEPS)),
        EventSpec(StepBlocked, stages=STEP_STAGES, check=_blocked_fits, apply=_block,
                  flow=False),
        EventSpec(StepUnblocked, stages=STEP_STAGES, check=_unblocked_fits,
                  apply=_unblock, flow=False),
        EventSpec(DamageReported, stages=OPEN_STAGES, apply=_damage_found, flow=False),
        EventSpec(DamageRepairsAdded, stages=REPAIRS_STAGES, check=_repairs_fit,
                  apply=_add_repairs, flow=False),
    )

    @workflow.init
    def __init__(self, inp: RemovalReinstallInput) -> None:
        def new_case(common: CaseCommon) -> RrProject:
            management, why = rr_management(inp.variant, inp.market, inp.remi_option,
                                            inp.policy.non_remi_markets)
            return RrProject(**common, system_id=inp.system_id, project_no=inp.project_no,
                             variant=inp.variant, management=management, routing_reason=why,
                             parent_claim_id=inp.parent_claim_id)

        self.init_case(inp, new_case)

    @workflow.run
    async def run(self, inp: RemovalReinstallInput) -> RrProject:
        """Run the project to completion."""
        self.start_run()
        if self._company:
            steps: tuple[Step, ...] = COMPANY_STEPS
        elif (self.case.management == "remi_sunrun_quoted"
              and workflow.patched(QUOTE_STEP_PATCH)):
            steps = REMI_QUOTED_STEPS
        else:
            steps = REMI_STEPS
        self._steps = steps
        blocks: dict[str, Callable[[], Awaitable[Ending | None]]] = {
            "created": self._create, COMPLETION: self._complete, CLOSING: self._complete}
        for i, step in enumerate(steps):
            after = steps[i + 1].stage if i + 1 < len(steps) else self._last_stage
            blocks[step.stage] = partial(self._run_step, step, after)
        return await self.run_case(lambda: self.run_stages(blocks))

    @property
    def _company(self) -> bool:
        return self.case.management == "company"

    @property
    def _last_stage(self) -> str:
        return COMPLETION if self._company else CLOSING

    @property
    def _owner(self) -> str:
        return PROJECT_MANAGER if self._company else REMI_COORDINATOR

    @property
    def _tells_homeowner(self) -> bool:
        """One voice per project (spec 2.2): Remi talks to the homeowner of a Remi-managed
        project (runs recorded before that rule told them too)."""
        return self._company or not self._v3

    async def _create(self) -> Ending | None:
        """Step 1: the project record (closed with the project) and its owner."""
        c = self.case
        self.enter_stage(PROJECT_CREATION if self._company else REMI_INTAKE)
        receipt = await self.effects.crm_record(
            self.key("project"), "project", "create the R&R project record", True,
            system_id=c.system_id, project_no=c.project_no, variant=c.variant,
            management=c.management)
        c.project_record_id = receipt.record_id if receipt else None
        ho = self.homeowner()
        if (not ho.phone and not self._v3) or (self._company and not ho.phone and not ho.email):
            # Spec 2.1: no usable contact never fails a case; the owner keeps the homeowner
            # informed instead (the outbox records the notices it could not send).
            c.escalation_reason = ("no usable phone: status updates go through the project "
                                   "owner" if not self._v3 else
                                   "no e-mail or phone: the project owner keeps the homeowner "
                                   "informed")
            self.view.mark(escalated=True)
        await self.effects.assign(self.key("owner"), self._owner,
                                  f"{c.variant} R&R project, {c.management.replace('_', ' ')}: "
                                  f"{c.routing_reason}",
                                  summary=f"assign the project to {self._owner}")
        if self._tells_homeowner:
            await self.outbox.tell("rr_started", self.key("started-notice"),
                                   "tell the homeowner the project has started",
                                   holds=Holds(while_open=True), management=c.management)
        self.enter_stage(self._steps[0].stage)
        return None

    async def _run_step(self, step: Step, after: str) -> Ending | None:
        """Wait for the step's completion; past its expected duration, weekly check-ins and
        homeowner updates (paused while blocked); claims for damage found on the way. Then
        the next stage."""
        c, p = self.case, self.inp.policy
        record = next((r for r in c.steps if r.stage == step.stage), None)
        if record is None:
            record = StepRecord(stage=step.stage, started_at=workflow.now(),
                                due_at=workflow.now() + step.expected(p))
            c.steps.append(record)
        late = f"past its expected {describe_span(step.expected(p))}"

        async def overrun(n: int) -> None:
            # Read when due: a claim may have added its repairs to this step meanwhile.
            title = step.title_for(c.variant, bool(c.added_repairs))
            await self._overrun_update(step, n, f"{title} {late}")
            c.bump("check_ins")
            await self.effects.assign(self.key("step", step.stage, "check-in", n), self._owner,
                                      f"{title} is {late}: check in with the crew and the "
                                      "homeowner", summary=f"check-in {n} on the {title}")

        while True:
            done = await self.wait_for(
                step.done, waiting_for=step.done.EVENT, waiting_on=step.waiting_on_for(c.variant),
                stop=lambda: bool(c.claims_to_start),
                reminders=[Series(overrun_series(step.stage),
                                  Cadence(every=p.overrun_reminder_interval), overrun,
                                  first_due=record.due_at)])
            if done is None:
                await self._start_claims()
                continue
            record.completed_on = done.completed_on or self._today()
            if isinstance(done, QuoteApproved):
                c.quote_amount = done.amount
            c.blocked = False
            c.blocked_reason = None
            self.enter_stage(after)
            return None

    async def _overrun_update(self, step: Step, n: int, what: str) -> None:
        """The homeowner's update on an overrunning step: through the outbox, dropped when the
        step is done before it can go (runs recorded before the outbox texted, when there was
        a phone)."""
        key = self.key("step", step.stage, "status-update", n)
        summary = f"status update {n} to the homeowner: {what}"
        if not self._v3:
            if self.homeowner().phone:
                self.case.bump("status_updates")
                await self.contact.send("text", "rr_status_update", key, summary,
                                        step=step.stage)
            return
        if self._tells_homeowner:
            told = await self.outbox.tell("rr_status_update", key, summary,
                                          holds=Holds(while_open=True, in_stage=step.stage),
                                          step=step.stage)
            if told != "failed":
                self.case.bump("status_updates")

    async def _complete(self) -> Ending | None:
        """The last step: claims for damage reported at the end, the homeowner told."""
        await self._start_claims()
        if self._tells_homeowner:
            await self.outbox.tell("rr_completed", self.key("completed-notice"),
                                   "tell the homeowner the project is complete")
        return Close("completed")

    async def on_closed(self, outcome: str) -> None:
        """Report the project's ending to the case that started it and to every claim that
        added repairs (spec 2.3): they wait for it in `project_in_progress`. A case that has
        closed meanwhile (one recorded before spec 2.3 closed `project_created`) is skipped."""
        c = self.case
        if not workflow.patched(REPORTS_ENDING):
            return
        told = [c.parent_claim_id] if c.parent_claim_id else []
        told += [r.claim_id for r in c.added_repairs if r.claim_id not in told]
        for case_id in told:
            if case_id in c.ending_reported_to:
                continue
            ended = {"event_id": f"{c.case_id}/{c.instance}/ended", "project_id": c.case_id,
                     "outcome": "completed" if outcome == "completed" else "cancelled",
                     "actor": "fieldservice"}
            try:
                await workflow.get_external_workflow_handle(case_id).signal(
                    ProjectEnded.EVENT, ended)
            except Exception as err:  # the case is closed or gone: nobody waits any more
                workflow.logger.info("project ending not delivered",
                                     extra={"case_id": c.case_id, "to": case_id,
                                            "why": type(err).__name__})
            c.ending_reported_to.append(case_id)
        self.view.refresh()

    async def _start_claims(self) -> None:
        """A linked damage claim for each `damage_reported` taken since the last time; a
        hazardous one goes to the system's O&M case through its claim (spec 2.3)."""
        c = self.case
        while c.claims_to_start:
            found = c.claims_to_start[0]
            if is_hazardous(found.hazard):
                c.hazard_case_id = om_case_id(c.system_id)
            n = len(c.damage_claims) + 1
            today = self._today()

            def claim(found: DamageReported = found, n: int = n,
                      today: date = today) -> DamageClaimInput:
                return claim_for_damage_found(self.inp, c.case_id, n, found, today,
                                              c.time_zone, c.holidays)

            claim_id = await self.links.start_case(DAMAGE, claim)
            c.damage_claims.append(claim_id or f"(claim {n} not started: see failures)")
            c.claims_to_start.pop(0)
            self.view.refresh()

    def _today(self) -> date:
        return workflow.now().astimezone(calendar_zone(self.case.time_zone)).date()

    def dispatch_fields(self) -> dict[str, str]:
        """Records name the system and the project."""
        return {"system_id": self.case.system_id, "project_no": self.case.project_no}

    def detail_lines(self) -> list[str]:
        """Project lines of the UI details (no personal data)."""
        c = self.case
        lines = [f"**Project:** {c.project_no} on system {c.system_id} ({c.market}, "
                 f"{c.time_zone or 'zone unknown'}) — {c.variant}, "
                 f"{c.management.replace('_', ' ')}",
                 f"**Routing:** {c.routing_reason}"]
        current = next((r for r in c.steps if r.stage == c.stage), None)
        if current is not None:
            series = c.reminders.get(overrun_series(c.stage))
            lines.append(f"**Step due:** {current.due_at.isoformat(timespec='minutes')}"
                         f" — overrun updates {series.count if series else 0}")
        if c.quote_amount is not None:
            lines.append(f"**Quote accepted:** {c.quote_amount}")
        if c.blocked:
            lines.append(f"**Blocked:** {c.blocked_reason}")
        if c.parent_claim_id:
            lines.append(f"**Started by:** {c.parent_claim_id}")
        if c.damage_claims:
            lines.append(f"**Damage claims:** {', '.join(c.damage_claims)}")
        if c.added_repairs:
            lines.append("**Repairs added by:** "
                         + ", ".join(r.claim_id for r in c.added_repairs))
        return lines
