from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import DunningCommon


@tagged("post_install", "-at_install")
class TestBulkRender(DunningCommon):
    """The faster paths of a run give what Odoo's own paths give: the emails' rendering and
    the company check of records created in batches."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls._customer("Bits <b>&</b> Pieces", "ap@bits.test")
        cls.unnamed = cls._customer("Cogs", "ap@cogs.test")
        for partner in cls.customer | cls.other | cls.unnamed:
            cls._invoice(partner, 16, 1200.0)

    def test_emails_render_as_mail_renders_them(self):
        """Every placeholder of every stage's template, for a batch of customers, is filled
        as Mail's own regex renderer fills it: escaped values, defaults for empty values."""
        self._run()
        messages = self.env["dunning.message"].search([("company_id", "=", self.company.id)])
        self.assertEqual(len(messages.partner_id), 3, "the test's premise: one batch, three")
        self.unnamed.email = False  # its placeholder falls back to the default below
        templates = self.levels.mail_template_id
        self.assertTrue(templates)
        Template = self.env["mail.template"]
        Mixin = self.env["mail.render.mixin"]  # Mail's loop, without our override
        for template in templates:
            source = template.body_html + '<p><t t-out="object.partner_id.email">none</t></p>'
            ours = Template._render_template_qweb_regex(source, "dunning.message", messages.ids)
            mails = Mixin._render_template_qweb_regex(source, "dunning.message", messages.ids)
            self.assertEqual(list(ours), messages.ids)
            self.assertEqual(ours, mails, template.name)
            self.assertIn(
                "Bits &lt;b&gt;&amp;&lt;/b&gt; Pieces",
                ours[messages.filtered(lambda m: m.partner_id == self.other).id],
            )

    def test_a_forbidden_expression_is_refused_as_mail_refuses_it(self):
        self._run()
        messages = self.env["dunning.message"].search([("company_id", "=", self.company.id)])
        source = '<p><t t-out="object.partner_id.password"/></p>'
        for renderer in (self.env["mail.template"], self.env["mail.render.mixin"]):
            with self.assertRaises(SyntaxError):
                renderer._render_template_qweb_regex(source, "dunning.message", messages.ids)

    def _message_vals(self, level, partner=None):
        return {
            "date": self.run_date,
            "partner_id": (partner or self.customer).id,
            "company_id": self.company.id,
            "level_id": level.id,
        }

    def test_a_batch_with_a_stage_of_another_company_is_refused(self):
        """Created in one batch, messages of one company are checked a company at a time;
        a stage of another company in the batch is refused with Odoo's own message, which
        names the record and the field."""
        other = self.setup_other_company(name="Company B")["company"]
        foreign = other._dunning_get_default_policy().level_ids[:1]
        Message = self.env["dunning.message"].sudo()
        batch = Message.create(
            [self._message_vals(self.formal), self._message_vals(self.final, self.other)]
        )
        self.assertEqual(batch.level_id, self.formal | self.final)
        with self.assertRaises(UserError) as refused:
            Message.create(
                [
                    self._message_vals(self.formal),
                    self._message_vals(foreign, self.other),
                    self._message_vals(self.final, self.unnamed),
                ]
            )
        self.assertIn("belongs to another company", str(refused.exception))
        self.assertIn(foreign.display_name, str(refused.exception))
