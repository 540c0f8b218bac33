import io

from docutils.core import publish_string

from odoo.tests import TransactionCase, tagged

ADDONS = ("dunning_b2b", "dunning_b2b_sale")


@tagged("post_install", "-at_install")
class TestReadme(TransactionCase):
    """The Apps page renders each addon's README.rst at install (ir.module.module._check):
    docutils prints its markup errors ("(ERROR/3) Unexpected indentation") to the install
    log, where no logger name says whose they are. Ours render clean, with an icon."""

    def test_readme_renders_without_markup_messages(self):
        for name in ADDONS:
            module = self.env["ir.module.module"].search([("name", "=", name)])
            self.assertTrue(module.description, f"{name}: no README.rst read as description")
            messages = io.StringIO()
            publish_string(
                source=module.description,
                settings_overrides={
                    # Odoo's own settings (ir.module.module._get_desc), messages kept.
                    "doctitle_xform": False,
                    "output_encoding": "unicode",
                    "file_insertion_enabled": False,
                    "report_level": 1,
                    "halt_level": 5,
                    "warning_stream": messages,
                },
            )
            self.assertFalse(messages.getvalue(), f"{name}/README.rst: {messages.getvalue()}")
            self.assertTrue(module.description_html)

    def test_module_icon(self):
        for name in ADDONS:
            module = self.env["ir.module.module"].search([("name", "=", name)])
            self.assertEqual(module.icon, f"/{name}/static/description/icon.png")
            self.assertTrue(module.icon_image, f"{name}: the Apps list shows no icon")
