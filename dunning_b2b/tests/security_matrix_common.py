"""What each role may do with every model and public method of dunning_b2b and its bridge.

The tables below are the contract; ``test_security_matrix`` checks the server against them.
A model or a public method that the addons define and the tables do not list fails the test:
whoever adds one decides here who may use it.
"""

from odoo import Command
from odoo.tests import new_test_user

from .conversations_common import ConversationCommon

MODULES = ("dunning_b2b", "dunning_b2b_sale")
ROLES = (
    "portal",
    "salesperson",
    "contact_creator",
    "billing",
    "collector_a",
    "manager_a",
    "manager_b",
)

# Operations on a record of company A allowed by access rights and record rules: r(ead)
# c(reate, in the user's company) w(rite) u(nlink). Which fields a write may change, and
# with what values, is tested apart (test_state_guards, test_partner_field_rights).
# Abstract models hold no records and are only reached through methods. "billing" is an
# invoicing user of company A without collections rights.
_NONE = dict.fromkeys(ROLES, "")


def _row(collector="", manager="", manager_b=None, **others):
    """A row: the collector's and A's manager's rights; B's manager creates in B only."""
    row = dict(_NONE, collector_a=collector, manager_a=manager, **others)
    if manager_b is None:
        manager_b = "c" if "c" in manager else ""
    row["manager_b"] = manager_b
    return row


ACCESS = {
    "dunning.policy": _row("r", "rcwu", billing="r"),
    "dunning.level": _row("r", "rcwu", billing="r"),
    "dunning.line": _row("r", "r", billing="r"),
    "dunning.event": _row("r", "r", billing="r"),
    "dunning.message": _row("rw", "rw", billing="r"),
    # Links to the customer's page: issued and revoked by the system and its buttons only.
    "dunning.access": _row("r", "r"),
    "dunning.resolution": _row("r", "rcw", billing="r"),
    "dunning.promise": _row("rcw", "rcwu", billing="r"),
    "dunning.dispute": _row("rcw", "rcwu", billing="r"),
    "dunning.dispute.reason": _row("r", "rcwu", billing="r"),
    "dunning.credit.hold": _row("r", "rcw", billing="r"),
    "dunning.kpi.snapshot": _row("r", "r"),
    "dunning.analysis": _row("r", "r"),
    "dunning.customer.kpi": _row("r", "r"),
    "dunning.ledger.position": _row("r", "r"),
    "dunning.worklist": _row("r", "rcwu"),
    "dunning.segment.rule": _row("r", "rcwu", billing="r"),
    "dunning.daily.mark": _row("r", "r"),
    "dunning.reevaluate.queue": _row("r", "r"),
    # The daily run (issue 15): the system's; its batches read in their company;
    # the change journal by no one.
    "dunning.run": _row("", ""),
    "dunning.run.batch": _row("r", "r"),
    "dunning.change": _row("", ""),
    "dunning.reply": _row("r", "r", billing="r"),
    "dunning.resolution.commission": _row("r", "r", billing="r"),
    # Wizards: each user reads and writes only the ones they made.
    "dunning.call.log": _row("rcw", "rcw", manager_b="rcw"),
    "dunning.credit.hold.decide": _row("", "rcwu", manager_b="rcwu"),
    "dunning.resolution.write.off": _row("", "rcwu", manager_b="rcwu"),
    "dunning.dispute.close": _row(
        "rcw", "rcw", salesperson="rcw", contact_creator="rcw", billing="rcw", manager_b="rcw"
    ),
    "dunning.worklist.assign": _row("rcw", "rcw", manager_b="rcw"),
    "dunning.worklist.call": _row("rcw", "rcw", manager_b="rcw"),
    # Provisions for doubtful debts: written by the booking only; the wizard is managers'.
    "dunning.provision": _row("r", "r", billing="r"),
    "dunning.provision.book": _row("", "rcwu", manager_b="rcwu"),
    # issue 14, late-payment charges: what was charged is written by the system only.
    "dunning.charge": _row("r", "r", billing="r"),
    "dunning.charge.band": _row("r", "rcwu", billing="r"),
    "dunning.reference.rate": _row("r", "rcwu", billing="r"),
    "dunning.charge.decide": _row("", "rcwu", manager_b="rcwu"),
}
ABSTRACT = {
    "dunning.company.check",
    "dunning.bulk",
    "dunning.engine",
    "dunning.kpi",
    "dunning.ladder",
    "dunning.line.render",
    "dunning.payment.info",
    "dunning.portal",
    "dunning.stage.entry",
    "report.dunning_b2b.report_customer_statement",
    "report.dunning_b2b.report_demand_letter",
    "report.dunning_b2b.report_dunning_letter",
    "report.dunning_b2b.report_formal_notice",
}

# Public methods (callable over RPC) on a record of company A: the roles whose call succeeds.
# Everyone else must get an AccessError. Business refusals expected of an allowed role are
# listed in REFUSALS, each with why.
COLLECTORS = {"collector_a", "manager_a"}
MANAGERS = {"manager_a"}
INTERNAL_A = {"salesperson", "contact_creator", "billing", "collector_a", "manager_a"}
# Invoicing users read the collections records and issue credit notes.
READERS = COLLECTORS | {"billing"}
# On the customer both companies share, and on the dashboard, B's manager acts in company B.
COLLECTORS_AB = COLLECTORS | {"manager_b"}
MANAGERS_AB = MANAGERS | {"manager_b"}
METHODS = {
    ("account.move", "action_dunning_exclude"): COLLECTORS,
    ("dunning.access", "action_revoke"): MANAGERS,
    ("dunning.resolution", "action_cancel"): MANAGERS,
    ("dunning.resolution", "action_done"): MANAGERS,
    ("dunning.resolution", "action_open"): MANAGERS,
    # Settlement and write-off (issue 14)
    ("dunning.resolution", "action_accept_settlement"): MANAGERS,
    ("dunning.resolution", "action_approve_write_off"): MANAGERS,
    ("dunning.resolution", "action_refuse_write_off"): MANAGERS,
    ("dunning.resolution", "action_write_off"): MANAGERS,
    ("dunning.resolution.write.off", "action_confirm"): MANAGERS_AB,
    ("dunning.resolution", "action_handover_pdf"): MANAGERS,
    ("dunning.resolution", "action_handover_csv"): MANAGERS,
    ("account.move", "action_dunning_include"): COLLECTORS,
    ("account.move", "action_dunning_log_call"): COLLECTORS,
    ("account.move", "action_dunning_log_response"): COLLECTORS,
    ("account.move", "action_dunning_open_dispute"): COLLECTORS,
    ("account.move", "action_dunning_run"): COLLECTORS,
    ("account.move", "action_dunning_view_disputes"): READERS,
    ("dunning.call.log", "action_confirm"): COLLECTORS,
    ("dunning.credit.hold", "action_apply"): MANAGERS,
    ("dunning.credit.hold", "action_open_lift"): MANAGERS,
    ("dunning.credit.hold", "action_reject"): MANAGERS,
    ("dunning.credit.hold.decide", "action_confirm"): MANAGERS_AB,
    ("dunning.dispute", "action_create_credit_note"): READERS,
    ("dunning.dispute", "action_reject"): COLLECTORS,
    ("dunning.dispute", "action_resolve"): COLLECTORS,
    ("dunning.dispute", "action_view_credit_notes"): READERS,
    ("dunning.dispute.close", "action_confirm"): COLLECTORS,
    ("dunning.kpi", "action_refresh"): MANAGERS_AB,
    ("dunning.kpi", "get_dashboard_data"): COLLECTORS_AB,
    ("dunning.message", "action_cancel"): COLLECTORS,
    ("dunning.message", "action_preview_letter"): COLLECTORS,
    ("dunning.message", "action_send"): COLLECTORS,
    ("dunning.promise", "action_cancel"): COLLECTORS,
    ("dunning.promise", "action_mark_broken"): COLLECTORS,
    ("dunning.promise", "action_mark_kept"): COLLECTORS,
    ("dunning.promise", "action_view_invoices"): READERS,
    ("dunning.worklist", "action_assign_collector"): COLLECTORS,
    ("dunning.worklist", "action_exclude"): COLLECTORS,
    ("dunning.worklist", "action_include"): COLLECTORS,
    ("dunning.worklist", "action_log_call"): COLLECTORS,
    ("dunning.worklist", "action_open_partner"): COLLECTORS,
    ("dunning.worklist", "action_print_letters"): COLLECTORS,
    ("dunning.worklist", "action_print_statement"): COLLECTORS,
    ("dunning.worklist", "action_refresh"): COLLECTORS,
    ("dunning.worklist", "action_send_stage_message"): COLLECTORS,
    ("dunning.worklist", "action_view_invoices"): COLLECTORS,
    ("dunning.worklist.assign", "action_assign"): COLLECTORS,
    ("dunning.worklist.call", "action_log"): COLLECTORS,
    ("res.partner", "action_credit_hold_lift"): MANAGERS_AB,
    ("res.partner", "action_credit_hold_set"): MANAGERS_AB,
    ("res.partner", "action_dunning_log_call"): COLLECTORS_AB,
    ("res.partner", "action_dunning_log_response"): COLLECTORS_AB,
    ("res.partner", "action_dunning_run"): COLLECTORS_AB,
    ("res.partner", "action_view_credit_holds"): READERS | {"manager_b"},
    ("res.partner", "action_view_dunning_disputes"): INTERNAL_A | {"manager_b"},
    ("res.partner", "action_view_dunning_events"): READERS | {"manager_b"},
    ("res.partner", "action_view_dunning_links"): COLLECTORS | {"manager_b"},
    ("res.partner", "action_view_dunning_promises"): READERS | {"manager_b"},
    ("sale.order", "action_dunning_approve"): MANAGERS,
    ("sale.order", "action_dunning_refuse"): MANAGERS,
    # Whoever may edit the order (its salesperson, invoicing users) may ask.
    ("sale.order", "action_dunning_request_approval"): {"salesperson", "billing"} | COLLECTORS,
    ("dunning.provision.book", "action_book"): MANAGERS,
    # issue 14, late-payment charges
    ("res.partner", "action_dunning_charges"): MANAGERS_AB,
    ("res.partner", "action_view_dunning_charges"): COLLECTORS | {"manager_b"},
    ("dunning.worklist", "action_dunning_charges"): MANAGERS,
    ("dunning.resolution", "action_dunning_charges"): MANAGERS,
    ("dunning.charge.decide", "action_confirm"): MANAGERS_AB,
}

# (model, method, role) -> part of the business refusal an allowed role meets, and why.
REFUSALS = {
    # The matrix's open case is an agency case without a write-off asked, and company A
    # (like B) has no bad debt account: the rights pass, the business check refuses.
    ("dunning.resolution", "action_accept_settlement", "manager_a"): "Negotiated settlement",
    ("dunning.resolution", "action_approve_write_off", "manager_a"): "no write-off to approve",
    ("dunning.resolution", "action_refuse_write_off", "manager_a"): "no write-off to approve",
    ("dunning.resolution.write.off", "action_confirm", "manager_a"): "Bad Debt Account",
    ("dunning.resolution.write.off", "action_confirm", "manager_b"): "Bad Debt Account",
    # The matrix's customer owes no charges (its policy charges none): the decision says so.
    ("dunning.charge.decide", "action_confirm", "manager_a"): "owes no late-payment charges",
    ("dunning.charge.decide", "action_confirm", "manager_b"): "owes no late-payment charges",
}


class SecurityMatrixCommon(ConversationCommon):
    """Company A with a customer at the formal notice (message, hold proposal, promise, dispute,
    worklist row), company B with its manager, and one user per role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        company_a = [Command.set(cls.company.ids)]
        sales = cls.env.ref("sales_team.group_sale_salesman", raise_if_not_found=False)
        sales_groups = "base.group_user" + (",sales_team.group_sale_salesman" if sales else "")
        cls.users = {
            "portal": new_test_user(
                cls.env, login="m_portal", groups="base.group_portal", company_id=cls.company.id
            ),
            "salesperson": new_test_user(
                cls.env, login="m_sales", groups=sales_groups, company_ids=company_a
            ),
            "contact_creator": new_test_user(
                cls.env,
                login="m_contacts",
                groups=sales_groups + ",base.group_partner_manager",
                company_ids=company_a,
            ),
            "billing": cls.invoicing_user,
            "collector_a": cls.collector,
            "manager_a": cls.manager,
            "manager_b": new_test_user(
                cls.env,
                login="m_manager_b",
                groups="dunning_b2b.group_dunning_manager",
                company_id=cls.company_b.id,
                company_ids=[Command.set(cls.company_b.ids)],
            ),
        }
        cls.users["portal"].partner_id.parent_id = cls.customer
        cls.move = cls._invoice(cls.customer, 20, 1000)
        cls.second = cls._invoice(cls.customer, 20, 300)
        cls.env["dunning.engine"].sudo()._run(run_date=cls.run_date)

    @classmethod
    def _our_models(cls):
        return {
            name for name in cls.env.registry.models if cls.env[name]._original_module in MODULES
        }

    @classmethod
    def _our_public_methods(cls):
        """(model, method) for every method first defined by our addons and callable over RPC."""
        found = set()
        for name in cls.env.registry.models:
            mro = type(cls.env[name]).__mro__
            for klass in mro:
                if getattr(klass, "_module", None) not in MODULES:
                    continue
                for attr, func in vars(klass).items():
                    if attr.startswith("_") or not callable(func):
                        continue
                    if getattr(func, "_api_private", False):
                        continue
                    foreign = any(
                        attr in vars(other)
                        for other in mro
                        if getattr(other, "_module", None) not in MODULES and other is not klass
                    )
                    if not foreign:
                        found.add((name, attr))
        return found
