import polib

from odoo.tests import tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import TranslationModuleReader

from .common import DunningCommon

LANGUAGES = ("fr", "de", "es", "nl")
MODULES = ("dunning_b2b", "dunning_b2b_sale")


@tagged("post_install", "-at_install")
class TestLanguages(DunningCommon):
    """English, French, German, Spanish and Dutch shipped complete, and a customer's
    reminder in the customer's language (issue 13)."""

    def test_every_string_is_translated_in_every_language(self):
        for module in MODULES:
            if module not in self.env.registry._init_modules:
                continue
            sources = {
                source
                for term_module, __, __, __, source, __, __ in TranslationModuleReader(
                    self.env.cr, [module]
                )
                if term_module == module and source.strip()
            }
            self.assertGreater(len(sources), 40)
            for lang in LANGUAGES:
                po = polib.pofile(file_path(f"{module}/i18n/{lang}.po"))
                translated = {
                    entry.msgid for entry in po.translated_entries() if not entry.obsolete
                }
                missing = sorted(sources - translated)
                self.assertEqual(
                    len(missing), 0, f"{module}/i18n/{lang}.po lacks {len(missing)}: {missing[:5]}"
                )
                self.assertFalse(po.fuzzy_entries(), f"{module}/i18n/{lang}.po has fuzzy entries")

    def test_german_customer_gets_a_german_reminder(self):
        self.env["res.lang"]._activate_lang("de_DE")
        self.env["ir.module.module"]._load_module_terms(["dunning_b2b"], ["de_DE"], overwrite=True)
        customer = self._customer("Stark Komponenten GmbH", "ap@stark.test", lang="de_DE")
        self._invoice(customer, 3, 400.0)
        self._run()
        message = self._messages(customer)
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.mail_message_id.id)])
        body = mail.body_html
        self.assertIn("Zahlung überfällig", mail.subject)
        for german in (
            "Guten Tag Stark Komponenten GmbH",
            "Rechnung",
            "Mit freundlichen Grüßen",
            "Online ansehen und bezahlen",
        ):
            self.assertIn(german, body)
        for english in ("Dear ", "Kind regards", "Due date"):
            self.assertNotIn(english, body)
