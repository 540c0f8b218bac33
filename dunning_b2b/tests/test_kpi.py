from datetime import date
from unittest.mock import patch

import psycopg2

from odoo import Command, sql_db
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, freeze_time, new_test_user, tagged
from odoo.tools import mute_logger

from ..models.dunning_kpi import KPI_LOCK
from .common import DunningCommon


class KpiCommon(DunningCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bad_debt = cls.env["account.account"].create(
            {"name": "Bad debts", "code": "681100", "account_type": "expense"}
        )
        cls.company.dunning_bad_debt_account_id = cls.bad_debt
        cls.accountant = new_test_user(
            cls.env,
            login="accounting_manager",
            name="Ada Accountant",
            groups="account.group_account_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    @classmethod
    def _pay_on(cls, move, amount, day):
        cls.env["account.payment.register"].with_company(move.company_id).with_context(
            active_model="account.move", active_ids=move.ids
        ).create({"amount": amount, "payment_date": day})._create_payments()

    @classmethod
    def _write_off(cls, move, amount, day):
        """Dr bad debts / Cr receivable, reconciled with the invoice."""
        receivable = move.line_ids.filtered(lambda line: line.account_type == "asset_receivable")
        entry = cls.env["account.move"].create(
            {
                "move_type": "entry",
                "date": day,
                "journal_id": cls.company_data["default_journal_misc"].id,
                "line_ids": [
                    Command.create({"name": "Write-off", "account_id": cls.bad_debt.id,
                                    "debit": amount}),
                    Command.create({"name": "Write-off", "account_id": receivable.account_id.id,
                                    "partner_id": move.commercial_partner_id.id,
                                    "credit": amount}),
                ],
            }
        )  # fmt: skip
        entry.action_post()
        (receivable | entry.line_ids.filtered(lambda line: line.account_id == receivable.account_id)
         ).reconcile()  # fmt: skip
        return entry

    @classmethod
    def _build_ledger(cls):
        """The ledger of TestKpiLedger (its docstring works the figures out)."""
        customer = cls.customer
        inv_a = cls._invoice_on(customer, date(2026, 2, 10), date(2026, 3, 12), 1000)
        inv_d = cls._invoice_on(customer, date(2026, 1, 5), date(2026, 2, 4), 300)
        cls._invoice_on(customer, date(2026, 3, 5), date(2026, 4, 4), 2000)
        inv_c = cls._invoice_on(customer, date(2026, 3, 10), date(2026, 3, 20), 500)
        cls._pay_on(inv_a, 1000, date(2026, 3, 15))
        cls._write_off(inv_d, 300, date(2026, 3, 25))
        cls._pay_on(inv_c, 200, date(2026, 3, 25))
        cls.env["dunning.kpi"]._refresh_company(cls.company, date(2026, 3, 31), months=3)

    def _snapshot(self, month, period="month", company=None):
        return self.env["dunning.kpi.snapshot"].search(
            [("company_id", "=", (company or self.company).id), ("month", "=", month),
             ("period", "=", period)]
        )  # fmt: skip


@tagged("post_install", "-at_install")
class TestKpiLedger(KpiCommon):
    """Ledger KPIs on a small hand-built ledger (company currency), March 2026.

    - A: 1,000 invoiced 10 Feb, due 12 Mar, paid 15 Mar
    - D: 300 invoiced 5 Jan, due 4 Feb, written off 25 Mar (Dr bad debts / Cr receivable)
    - B: 2,000 invoiced 5 Mar, due 4 Apr (still current on 31 Mar)
    - C: 500 invoiced 10 Mar, due 20 Mar, 200 paid 25 Mar (300 overdue 11 days on 31 Mar)

    March: opening 1,300 (A + D), credit sales 2,500 (B + C), closing
    1,300 + 2,500 - 1,000 - 300 - 200 = 2,300, of which current 2,000 (B), overdue 300 (C).

    - CEI = (1300 + 2500 - 2300) / (1300 + 2500 - 2000) * 100 = 1500 / 1800 = 83.33 %
    - DSO simple = 2300 / 2500 * 31 = 28.52 days; countback: 2300 <= March's 2500 -> 28.52
    - best possible DSO = 2000 / 2500 * 31 = 24.8; ADD = 28.52 - 24.8 = 3.72 days
    - weighted days past due = 300 * 11 / 300 = 11 days
    - bad debt = 300 / 2500 = 12 %
    Twelve months to March (1 Apr 2025 - 31 Mar 2026, 365 days): opening 0, sales 3,800,
    CEI = (0 + 3800 - 2300) / (0 + 3800 - 2000) = 83.33 %, DSO = 2300 / 3800 * 365 = 220.92,
    countback 28.52 (same closing, same months), bad debt = 300 / 3800 = 7.89 %.
    February: opening 300, sales 1,000, closing 1,300, current 1,000 (A):
    CEI = (300 + 1000 - 1300) / (300 + 1000 - 1000) = 0 %; D overdue 24 days on 28 Feb.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_ledger()

    def test_march(self):
        march = self._snapshot(date(2026, 3, 1))
        self.assertRecordValues(march, [{
            "opening": 1300, "credit_sales": 2500, "closing": 2300, "closing_current": 2000,
            "closing_overdue": 300, "collected": 1500, "written_off": 300, "days": 31,
        }])  # fmt: skip
        expected = {"cei": 83.3333, "dso": 28.52, "dso_countback": 28.52, "best_dso": 24.8,
                    "add": 3.72, "weighted_dpd": 11.0, "bad_debt": 12.0}  # fmt: skip
        for key, value in expected.items():
            with self.subTest(kpi=key):
                self.assertAlmostEqual(march[key], value, places=3)

    def test_twelve_months(self):
        year = self._snapshot(date(2026, 3, 1), "year")
        self.assertEqual((year.opening, year.credit_sales, year.days), (0, 3800, 365))
        self.assertAlmostEqual(year.cei, 83.3333, places=3)
        self.assertAlmostEqual(year.dso, 220.9211, places=3)
        self.assertAlmostEqual(year.dso_countback, 28.52, places=3)
        self.assertAlmostEqual(year.bad_debt, 7.8947, places=3)

    def test_february_and_history(self):
        february = self._snapshot(date(2026, 2, 1))
        self.assertRecordValues(february, [{
            "opening": 300, "credit_sales": 1000, "closing": 1300, "closing_current": 1000,
            "closing_overdue": 300, "cei": 0.0, "weighted_dpd": 24.0, "written_off": 0,
        }])  # fmt: skip
        months = self.env["dunning.kpi.snapshot"].search(
            [("company_id", "=", self.company.id), ("period", "=", "month")]
        )
        self.assertEqual(months.mapped("month"),
                         [date(2026, 3, 1), date(2026, 2, 1), date(2026, 1, 1)])  # fmt: skip

    def test_refresh_is_idempotent(self):
        before = self.env["dunning.kpi.snapshot"].search_count([])
        self.env["dunning.kpi"]._refresh_company(self.company, date(2026, 3, 31), months=3)
        self.assertEqual(self.env["dunning.kpi.snapshot"].search_count([]), before)

    def test_refresh_now_waits_for_the_runs_kpi_batches(self):
        """While a batch of the daily run rewrites the company's customer profiles (it holds
        the company's KPIs, shared), "Refresh now" waits for it: before, both rewrote the
        same rows at once and one of them failed."""
        # A company this test's transaction has not refreshed yet (the class's refresh holds
        # its company's lock to the end of the transaction).
        company = self.setup_other_company(name="Company B")["company"]
        batch = sql_db.db_connect(self.env.cr.dbname).cursor()  # another worker's transaction
        try:
            batch.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", (KPI_LOCK, company.id))
            with self.env.cr.savepoint(), self.assertRaises(psycopg2.errors.LockNotAvailable):
                self.env.cr.execute("SET LOCAL lock_timeout = '300ms'")
                with mute_logger("odoo.sql_db"):
                    self.env["dunning.kpi"]._refresh_company(company, date(2026, 3, 31))
        finally:
            batch.close()  # rolled back: the lock is released
        self.env["dunning.kpi"]._refresh_company(company, date(2026, 3, 31))

    def test_refresh_now_stamps_the_day_of_the_run(self):
        """ "Refresh now" computes the KPIs of the day the daily run computes them for (the
        user's time zone, not the browser's): profiles stamped with another day made the
        run's close find them stale and fail."""
        self.env.user.tz = "Pacific/Kiritimati"  # UTC+14
        with freeze_time("2026-03-31 12:00:00"):  # 1 April, 02:00 in Kiritimati
            self.env["dunning.kpi"].with_context(tz="UTC").action_refresh()
        profile = (
            self.env["dunning.customer.kpi"]
            .sudo()
            .search([("company_id", "=", self.company.id)], limit=1)
        )
        self.assertTrue(profile)
        self.assertEqual(profile.analysis_parts["date"], "2026-04-01")

    def test_dashboard_for_accounting_manager(self):
        """An accounting manager (not a collector) opens the dashboard and the analysis."""
        data = self.env["dunning.kpi"].with_user(self.accountant).get_dashboard_data()
        self.assertFalse(data["empty"])
        self.assertEqual(data["month_label"], "Mar 2026")
        self.assertAlmostEqual(data["month"]["cei"], 83.3333, places=3)
        self.assertAlmostEqual(data["month"]["dso"], 28.52, places=3)
        self.assertAlmostEqual(data["month"]["dso_countback"], 28.52, places=3)
        self.assertAlmostEqual(data["month"]["weighted_dpd"], 11.0, places=3)
        self.assertAlmostEqual(data["year"]["bad_debt"], 7.8947, places=3)
        self.assertEqual(len(data["trend"]["labels"]), 12)
        self.assertEqual(data["customers"][0]["name"], self.customer.display_name)
        for model, view_types in (
            ("dunning.kpi.snapshot", ["list", "graph", "pivot", "search"]),
            ("dunning.analysis", ["pivot", "graph", "list", "search"]),
            ("dunning.customer.kpi", ["list", "pivot", "form", "search"]),
        ):
            Model = self.env[model].with_user(self.accountant)
            views = Model.get_views([(False, view_type) for view_type in view_types])
            self.assertEqual(set(views["views"]), set(view_types))
            rows = Model.search_read([], ["company_id"])
            self.assertEqual(bool(rows), model != "dunning.analysis", "no stage entered here")

    def test_others_read_nothing(self):
        with self.assertRaises(AccessError):
            self.env["dunning.kpi"].with_user(self.invoicing_user).get_dashboard_data()
        with self.assertRaises(AccessError):
            self.env["dunning.kpi.snapshot"].with_user(self.invoicing_user).search([])
        as_collector = self.env["dunning.kpi"].with_user(self.collector).get_dashboard_data()
        self.assertFalse(as_collector["can_refresh"], "collectors read, managers refresh")
        self.assertAlmostEqual(as_collector["month"]["cei"], 83.3333, places=3)
        with self.assertRaises(AccessError):
            self.env["dunning.kpi"].with_user(self.collector).action_refresh()


@tagged("post_install", "-at_install")
class TestKpiResolution(KpiCommon):
    """Resolution by stage on a scripted history (standard ladder: pre-due at -7, follow-up
    at 1, formal notice at 16 days). Four invoices of 1,000 due 10 Jan 2026; P4 is in EUR at
    2 EUR per company unit (500 in company currency). The run goes on 3, 11 and 26 Jan.

    - P1: pre-due on 3 Jan, paid 8 Jan -> paid at stage 1
    - P2: stage 1 on 3 Jan, stage 2 on 11 Jan, paid 20 Jan -> paid at stage 2
    - P3: stage 1, stage 2, 400 paid 15 Jan, formal notice on 26 Jan with 600 open -> open
    - P4 (EUR): stage 1, stage 2, paid 12 Jan -> paid at stage 2

    Stage 1: 4 entered, 1 paid there = 25 %; entered 3,500, recovered 1,000.
    Stage 2: 3 entered (P2, P3, P4), 2 paid there = 66.7 %; entered 1000 + 1000 + 500 = 2,500,
    recovered 1000 + 400 + 500 = 1,900 (76 %). Stage 3: 1 entered (600), open.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR", rates=[("2020-01-01", 2.0)])
        due = date(2026, 1, 10)
        other = cls._customer("Other Buyer", "ap@other.test")
        cls.p1, cls.p2, cls.p3 = (
            cls._invoice_on(cls.customer, date(2025, 12, 11), due, 1000) for _i in range(3)
        )
        cls.p4 = cls._invoice_on(other, date(2025, 12, 11), due, 1000, currency=cls.eur)
        runner = cls.env["dunning.engine"].sudo()
        runner._run(run_date=date(2026, 1, 3), companies=cls.company)
        cls._pay_on(cls.p1, 1000, date(2026, 1, 8))
        runner._run(run_date=date(2026, 1, 11), companies=cls.company)
        cls._pay_on(cls.p4, 1000, date(2026, 1, 12))
        cls._pay_on(cls.p3, 400, date(2026, 1, 15))
        cls._pay_on(cls.p2, 1000, date(2026, 1, 20))
        runner._run(run_date=date(2026, 1, 26), companies=cls.company)
        cls.env["dunning.kpi"]._refresh_company(cls.company, date(2026, 1, 31), months=1)

    def test_chunks_of_one_customer_give_the_same_figures(self):
        """The history is gathered a chunk of customers at a time (issue 15: memory flat
        with the ledger); the stage outcomes are sums over the chunks, so chunks of one
        customer give the figures of one chunk of all."""

        def snapshot():
            fields_a = ["month", "currency_id", "level_id", "entered_count", "resolved_count",
                        "open_count", "entered_amount", "recovered_amount", "resolution_rate",
                        "recovery_rate"]  # fmt: skip
            analysis = self.env["dunning.analysis"].search_read(
                [("company_id", "=", self.company.id)], fields_a, order="month, level_id"
            )
            customers = self.env["dunning.customer.kpi"].search_read(
                [("company_id", "=", self.company.id)],
                ["partner_id", "open_amount", "paid_count", "usual_paying_level_id"],
                order="partner_id",
            )
            rows = [{k: v for k, v in row.items() if k != "id"} for row in analysis + customers]
            return sorted(rows, key=repr)  # rows of one month and stage differ by currency

        whole = snapshot()
        self.assertTrue(whole)
        Engine = type(self.env["dunning.engine"])
        with patch.object(Engine, "_get_chunk_size", lambda engine: 1):
            self.env["dunning.kpi"]._refresh_company(self.company, date(2026, 1, 31), months=1)
        self.assertEqual(snapshot(), whole)

    def _by_stage(self, domain=()):
        groups = self.env["dunning.analysis"]._read_group(
            [("company_id", "=", self.company.id), *domain],
            ["level_id"],
            ["entered_count:sum", "resolved_count:sum", "resolution_rate:avg",
             "entered_amount:sum", "recovered_amount:sum", "open_count:sum"],
        )  # fmt: skip
        return {level: values for level, *values in groups}

    def test_history_as_scripted(self):
        self.assertEqual(self.p3.dunning_level_id, self.formal)
        self.assertFalse(
            self._events(self.p1, "stage").filtered(lambda e: e.level_id != self.pre_due)
        )

    def test_resolution_by_stage(self):
        stages = self._by_stage()
        self.assertEqual(set(stages), {self.pre_due, self.follow_up, self.formal})
        entered, resolved, rate, amount, recovered, still_open = stages[self.pre_due]
        self.assertEqual((entered, resolved), (4, 1))
        self.assertAlmostEqual(rate, 25.0)
        self.assertAlmostEqual(amount, 3500)
        self.assertAlmostEqual(recovered, 1000)
        entered, resolved, rate, amount, recovered, still_open = stages[self.follow_up]
        self.assertEqual((entered, resolved), (3, 2))
        self.assertAlmostEqual(rate, 200 / 3)
        self.assertAlmostEqual(amount, 2500)
        self.assertAlmostEqual(recovered, 1900)
        entered, resolved, rate, amount, recovered, still_open = stages[self.formal]
        self.assertEqual((entered, resolved, still_open), (1, 0, 1))
        self.assertAlmostEqual(amount, 600)

    def test_currency_dimension(self):
        """The EUR invoice is its own row; its amounts are in company currency."""
        eur = self._by_stage([("currency_id", "=", self.eur.id)])
        self.assertEqual(eur[self.follow_up][:2], [1, 1])
        self.assertAlmostEqual(eur[self.follow_up][3], 500)

    def test_customer_profile(self):
        """Acme paid P1 at stage 1 and P2 at stage 2: a tie, so it usually pays at stage 2
        (50 %); P3 is still open at the formal notice, 600 overdue for 21 days."""
        profile = self.env["dunning.customer.kpi"].search(
            [("company_id", "=", self.company.id), ("partner_id", "=", self.customer.id)]
        )
        self.assertRecordValues(profile, [{
            "usual_paying_level_id": self.follow_up.id, "usual_paying_share": 50.0,
            "paid_count": 2, "level_id": self.formal.id, "invoice_count": 3,
            "collector_id": self.collector.id,
        }])  # fmt: skip
        self.assertEqual(profile.has_disputes, "dunning.dispute" in self.env)
        collectors = self.env["dunning.analysis"]._read_group(
            [("company_id", "=", self.company.id)], ["collector_id"], ["entered_count:sum"]
        )
        self.assertEqual(collectors, [(self.collector, 8)], "the company's collector works them")

    def test_daily_run_fills_the_analysis(self):
        """The engine hook refreshes the KPIs of each company after a full run."""
        self.env["dunning.analysis"].search([]).sudo().unlink()
        stats = self._run(run_date=date(2026, 1, 27), companies=self.company)
        self.assertEqual(stats["kpi_refreshed"], 1)
        self.assertTrue(self._by_stage())


@tagged("post_install", "-at_install")
class TestKpiMultiCompany(KpiCommon):
    """Each company sees its own figures only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR", rates=[("2020-01-01", 2.0)])
        cls.company_b = cls.setup_other_company(name="KPI Company B", currency_id=cls.eur.id)[
            "company"
        ]
        cls._invoice_on(cls.customer, date(2026, 3, 2), date(2026, 3, 10), 700)
        cls._invoice_on(cls.customer, date(2026, 3, 2), date(2026, 3, 10), 9000,
                        company=cls.company_b)  # fmt: skip
        for company in cls.company | cls.company_b:
            cls.env["dunning.kpi"]._refresh_company(company, date(2026, 3, 31), months=1)

    def test_company_sees_only_its_own(self):
        Snapshot = self.env["dunning.kpi.snapshot"].with_user(self.accountant)
        rows = Snapshot.search([])
        self.assertEqual(rows.company_id, self.company)
        self.assertEqual(rows.filtered(lambda r: r.period == "month").closing, 700)
        other = self._snapshot(date(2026, 3, 1), company=self.company_b)
        self.assertEqual(other.closing, 9000)
        with self.assertRaises(AccessError):
            other.with_user(self.accountant).read(["closing"])
        for model in ("dunning.analysis", "dunning.customer.kpi"):
            self.assertFalse(
                self.env[model]
                .with_user(self.accountant)
                .search([("company_id", "=", self.company_b.id)])
            )
        data = self.env["dunning.kpi"].with_user(self.accountant).get_dashboard_data()
        self.assertEqual(data["companies"], [self.company.name])
        self.assertTrue(data["bad_debt_account"])
        self.assertEqual(data["month"]["closing"], 700)

    def test_consolidated_for_both_companies(self):
        """Company B keeps its books in EUR (2 EUR per company A unit on 31 March): its 9,000
        count 4,500 in company A's currency; consolidated receivables 700 + 4,500 = 5,200,
        CEI = (0 + 5200 - 5200) / (0 + 5200 - 0) = 0 %; simple DSO = 5200 / 5200 * 31 = 31."""
        self.assertEqual(self.company_b.currency_id, self.eur)
        data = (
            self.env["dunning.kpi"]
            .with_context(allowed_company_ids=(self.company | self.company_b).ids)
            .get_dashboard_data()
        )
        self.assertEqual(data["currency"]["name"], self.company.currency_id.name)
        self.assertFalse(data["bad_debt_account"], "company B has no bad debt account")
        self.assertAlmostEqual(data["month"]["closing"], 5200)
        self.assertAlmostEqual(data["month"]["credit_sales"], 5200)
        self.assertAlmostEqual(data["month"]["cei"], 0.0)
        self.assertAlmostEqual(data["month"]["dso"], 31.0)


@tagged("post_install", "-at_install")
class TestKpiDashboardBrowser(KpiCommon, HttpCase):
    """The dashboard client action draws what the snapshots hold, for an accounting manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_ledger()

    def test_dashboard_opens(self):
        code = """
            const deadline = Date.now() + 20000;
            const check = () => {
                const cei = document.querySelector(".o_dunning_kpi[data-kpi=cei] .fs-3");
                const customers = document.querySelectorAll(".o_dunning_customer_table tbody tr");
                if (cei && customers.length) {
                    const charts = document.querySelectorAll(".o_dunning_chart canvas").length;
                    if (!cei.textContent.includes("83.3")) {
                        console.error("CEI shown: " + cei.textContent);
                    } else if (charts < 5) {
                        console.error("charts drawn: " + charts);
                    } else if (document.querySelector(".o_dunning_refresh")) {
                        console.error("an accounting manager cannot refresh");
                    } else {
                        console.log("test successful");
                    }
                } else if (Date.now() > deadline) {
                    console.error("the dashboard was not drawn");
                } else {
                    setTimeout(check, 100);
                }
            };
            check();
        """
        self.browser_js(
            "/odoo/action-dunning_b2b.dunning_kpi_dashboard_action",
            code,
            ready="!!document.querySelector('.o_dunning_kpi_dashboard')",
            login="accounting_manager",
        )
