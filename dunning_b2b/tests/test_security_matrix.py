from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.service.model import call_kw
from odoo.tests import freeze_time, tagged

from .security_matrix_common import (
    ABSTRACT,
    ACCESS,
    METHODS,
    REFUSALS,
    ROLES,
    SecurityMatrixCommon,
)

OPERATIONS = ("read", "create", "write", "unlink")


@tagged("post_install", "-at_install")
class TestSecurityMatrix(SecurityMatrixCommon):
    """Every model and public method of both addons, tried by every role on company A."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with freeze_time(cls.run_date):
            cls.promise = cls._promise_of(cls.move, 400)
            cls.dispute = cls._dispute_of(cls.second)
        cls.env["dunning.dispute.reason"].sudo().create(
            {"company_id": cls.company.id, "reason": "quality", "owner_type": "collector"}
        )
        cls.env["dunning.segment.rule"].sudo().create(
            {"company_id": cls.company.id, "segment": "high_large"}
        )
        cls.env["dunning.reevaluate.queue"].sudo()._enqueue({(cls.customer.id, cls.company.id)})
        cls.env["dunning.access"]._create_link(cls.customer, cls.company)
        cls.resolutions = {
            state: cls.env["dunning.resolution"]
            .sudo()
            .create(
                {
                    "partner_id": cls.customer.id,
                    "company_id": cls.company.id,
                    "resolution_type": "agency",
                    "line_ids": [Command.set(line.ids)],
                }
            )
            for state, line in (
                (
                    "draft",
                    cls.move.line_ids.filtered(lambda x: x.account_type == "asset_receivable"),
                ),
                (
                    "open",
                    cls.second.line_ids.filtered(lambda x: x.account_type == "asset_receivable"),
                ),
            )
        }
        cls.resolutions["open"].sudo().write({"state": "open", "date_open": cls.run_date})
        # Provisions: January booked at 10 % of the formal notice; 20 % from then on leaves
        # February to book.
        Account = cls.env["account.account"].with_company(cls.company)
        cls.company.write(
            {
                "dunning_provision_allowance_account_id": Account.create(
                    {"code": "129900", "name": "Allowance", "account_type": "asset_current"}
                ).id,
                "dunning_provision_expense_account_id": Account.create(
                    {"code": "681900", "name": "Provision expense", "account_type": "expense"}
                ).id,
            }
        )
        cls.formal.provision_percent = 10.0
        cls.env["dunning.provision"].sudo()._book(cls.company, date(2026, 1, 31))
        cls.formal.provision_percent = 20.0
        # An agency case (issue 14, agency): its firm and a commission posted on a payment.
        firm = cls._customer("Recover & Co")
        for case in cls.resolutions.values():
            case.sudo().agency_id = firm
        cls.env["dunning.resolution.commission"].sudo().create(
            {
                "resolution_id": cls.resolutions["open"].id,
                "company_id": cls.company.id,
                "date": cls.run_date,
                "payment_line_id": cls.resolutions["open"].line_ids.id,
                "amount_base": 100.0,
                "rate": 25.0,
                "amount": 25.0,
            }
        )
        # issue 14, late-payment charges: a band, a reference rate and a charge in company A.
        cls.policy.sudo().write(
            {
                "charge_band_ids": [Command.create({"amount_from": 0, "fee": 40})],
                "charge_rate_ids": [Command.create({"date_from": "2026-01-01", "rate": 4.5})],
            }
        )
        receivable = cls.move.line_ids.filtered(lambda x: x.account_type == "asset_receivable")
        cls.env["dunning.charge"].sudo().create(
            {
                "move_line_id": receivable.id,
                "move_id": cls.move.id,
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "currency_id": cls.move.currency_id.id,
                "charge_type": "compensation",
                "state": "waived",
                "amount": 40,
                "date": cls.run_date,
                "reason": "Matrix",
            }
        )
        cls.env["dunning.reply"].sudo().create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "date": "2026-03-02 10:00:00",
                "reply_date": cls.run_date,
            }
        )
        # A second customer on an active hold, set by A's manager.
        cls.held = cls._customer("Held Ltd", "ap@held.test")
        cls._invoice(cls.held, 20, 500)
        cls.env["res.partner"].browse(cls.held.ids).with_user(cls.manager).credit_hold = True
        cls.active_hold = cls.env["dunning.credit.hold"].search(
            [("partner_id", "=", cls.held.id), ("state", "=", "active")]
        )
        cls.proposal = cls.env["dunning.credit.hold"].search(
            [("partner_id", "=", cls.customer.id), ("state", "=", "proposed")]
        )
        cls.orders = {}
        if "sale.order" in cls.env:
            cls.company.dunning_hold_sale_policy = "approval"
            for key in ("held", "requested"):
                cls.orders[key] = (
                    cls.env["sale.order"]
                    .sudo()
                    .create(
                        {
                            "partner_id": cls.held.id,
                            "company_id": cls.company.id,
                            "user_id": cls.users["salesperson"].id,
                            "order_line": [
                                Command.create(
                                    {"name": "Bolts", "product_uom_qty": 1, "price_unit": 100}
                                )
                            ],
                        }
                    )
                )
            cls.orders["requested"].with_user(cls.users["salesperson"]).with_context(
                allowed_company_ids=cls.company.ids
            ).action_dunning_request_approval()

    @classmethod
    def _promise_of(cls, move, amount):
        return (
            cls.env["dunning.promise"]
            .with_user(cls.collector)
            .create(
                {
                    "partner_id": cls.customer.id,
                    "move_ids": [Command.set(move.ids)],
                    "amount": amount,
                    "promise_date": cls.run_date.replace(day=20),
                }
            )
        )

    @classmethod
    def _dispute_of(cls, move):
        return (
            cls.env["dunning.dispute"]
            .with_user(cls.collector)
            .create({"move_id": move.id, "reason": "pricing"})
        )

    # ------------------------------------------------------------ fixtures
    def _record(self, model, method=None):
        """A record of company A of ``model`` in the state ``method`` acts on, as the
        superuser sees it."""
        fixed = {
            ("dunning.credit.hold", "action_open_lift"): self.active_hold,
            ("res.partner", "action_credit_hold_lift"): self.held,
            ("sale.order", "action_dunning_request_approval"): self.orders.get("held"),
            ("sale.order", "action_dunning_approve"): self.orders.get("requested"),
            ("sale.order", "action_dunning_refuse"): self.orders.get("requested"),
            "account.move": self.move,
            "res.partner": self.customer,
            "dunning.promise": self.promise,
            "dunning.dispute": self.dispute,
            "dunning.credit.hold": self.proposal,
            ("dunning.resolution", "action_open"): self.resolutions["draft"],
            "dunning.resolution": self.resolutions["open"],
        }
        for key in ((model, method), model):
            if key in fixed:
                return fixed[key]
        Model = self.env[model].sudo()
        domain = []
        if "company_id" in Model._fields:
            domain = [("company_id", "in", [self.company.id, False])]
        if "partner_id" in Model._fields:
            domain.append(("partner_id", "=", self.customer.id))
        record = Model.search(domain, limit=1) or Model.search(domain[:1], limit=1)
        self.assertTrue(record, f"The matrix needs a record of {model} in company A.")
        return record.sudo(False)

    def _wizard(self, env, model):
        """The wizard ``model`` made by the user of ``env`` (as its creator) on company A's
        records: the method's own checks decide, not the right to create wizards."""
        row = self._record("dunning.worklist")
        vals = {
            "dunning.call.log": {"partner_id": self.customer.id, "company_id": self.company.id},
            "dunning.credit.hold.decide": {
                "partner_id": self.customer.id,
                "decision": "set",
                "reason": "Checked with finance",
            },
            "dunning.dispute.close": {
                "dispute_id": self.dispute.id,
                "decision": "reject",
                "note": "Price as agreed",
            },
            "dunning.worklist.assign": {
                "worklist_ids": [Command.set(row.ids)],
                "collector_id": self.collector.id,
            },
            "dunning.worklist.call": {"worklist_ids": [Command.set(row.ids)]},
            "dunning.resolution.write.off": {
                "partner_id": self.customer.id,
                "reason": "Customer insolvent",
            },
            "dunning.provision.book": {"company_id": self.company.id, "date": "2026-02-28"},
            "dunning.charge.decide": {"partner_id": self.customer.id, "decision": "charge"},
        }[model]
        # sudo keeps the user as the wizard's creator, who alone may use it afterwards.
        return env[model].sudo().create(vals).sudo(False)

    def _try_method(self, role, model, method):
        """'ok', 'denied' (AccessError), 'refused: <message>' (UserError) or the crash."""
        user = self.users[role]
        env = self.env(user=user, context={"allowed_company_ids": user.company_ids.ids})
        savepoint = self.env.cr.savepoint()
        try:
            if env[model]._transient:
                records = self._wizard(env, model)
            elif env[model]._abstract:
                records = env[model]
            else:
                records = self._record(model, method).with_env(env)
            func = getattr(type(env[model]), method)
            args = [] if getattr(func, "_api_model", False) else [records.ids]
            call_kw(env[model], method, args, {})
            self.env.flush_all()
            return "ok"
        except AccessError:
            return "denied"
        except UserError as error:
            return f"refused: {error.args[0][:90]}"
        except Exception as error:  # noqa: BLE001 - reported as the cell's value
            return f"crash: {error!r}"
        finally:
            savepoint.close(rollback=True)
            self.env.invalidate_all(flush=False)

    def _operations(self, role, model):
        user = self.users[role]
        Model = self.env[model].with_user(user).with_company(user.company_id)
        if Model._transient:
            return "".join(op[0] for op in OPERATIONS if Model.has_access(op))
        record = self._record(model).with_user(user).with_company(user.company_id)
        found = ""
        for op in OPERATIONS:
            allowed = Model.has_access(op) if op == "create" else record.has_access(op)
            found += op[0] if allowed else ""
        return found

    # --------------------------------------------------------------- tests
    def test_every_model_has_a_row(self):
        ours = self._our_models()
        self.assertFalse(ours - set(ACCESS) - ABSTRACT, "Models without a row in the matrix")
        self.assertFalse((set(ACCESS) | ABSTRACT) - ours, "Rows for models that do not exist")

    def test_every_public_method_has_a_row(self):
        found = self._our_public_methods()
        self.assertFalse(found - set(METHODS), "Public methods without a row in the matrix")
        self.assertFalse(set(METHODS) - found, "Rows for methods that are gone or private")

    def test_operations_on_company_a_records(self):
        found = {model: {role: self._operations(role, model) for role in ROLES} for model in ACCESS}
        diff = {
            (model, role): (found[model][role], ACCESS[model][role])
            for model in ACCESS
            for role in ROLES
            if found[model][role] != ACCESS[model][role]
        }
        self.assertFalse(diff, "(model, role): (found, expected)")

    def test_public_methods_by_role(self):
        diff = {}
        for (model, method), allowed in sorted(METHODS.items()):
            if model not in self.env:
                continue
            for role in ROLES:
                outcome = self._try_method(role, model, method)
                expected = "ok" if role in allowed else "denied"
                refusal = REFUSALS.get((model, method, role))
                if refusal and outcome.startswith("refused") and refusal in outcome:
                    continue
                if outcome != expected:
                    diff[model, method, role] = (outcome, expected)
        self.assertFalse(diff, "(model, method, role): (found, expected)")
