import ast
import re
from pathlib import Path

from odoo.tests import TransactionCase, tagged

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ("dunning_b2b", "dunning_b2b_sale")
# Where a user is sent to a menu: messages and labels in the code, the READMEs, the demo's
# own instructions. Translations follow their source strings.
EXTRA_FILES = ("README.md", "scripts/demo.sh")
SUFFIXES = {".py", ".md", ".rst", ".xml", ".js", ".sh"}
# What a path starts with: an app, or our own Collections menu (under Invoicing).
ROOTS = ("Invoicing", "Collections", "Sales", "Settings", "Accounting")
SEP = r"\s*(?:>|→|&gt;)\s*"
# A menu's name: capitalised words, with the small words menus use in between.
SEGMENT = r"[A-Z][\w]*(?: (?:[A-Z][\w]*|&|&amp;|by|to|of|and))*"
PATH = re.compile(rf"\b((?:{'|'.join(ROOTS)})(?:{SEP}{SEGMENT})+)")
SMALL_WORDS = {"&", "&amp;", "by", "to", "of", "and"}


def _texts(path):
    """The text of ``path`` where a menu path can stand, as one line per string (Python)
    or per file (documents), emphasis marks removed and lines joined."""
    source = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        texts = [
            node.value
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
    elif path.suffix == ".sh":
        texts = source.splitlines()  # text printed line by line
    else:
        texts = [source]  # wrapped paragraphs: a path may go on on the next line
    return [re.sub(r"\s+", " ", text.replace("*", "")) for text in texts]


def menu_paths():
    """(file, path segments) of every menu path written in the addons' code and docs."""
    files = [ROOT / name for name in EXTRA_FILES if (ROOT / name).exists()]
    for addon in ADDONS:
        files += [
            path
            for path in sorted((ROOT / addon).rglob("*"))
            if path.suffix in SUFFIXES and "i18n" not in path.parts
        ]
    for path in files:
        if path == Path(__file__):
            continue
        for text in _texts(path):
            for match in PATH.finditer(text):
                segments = [s.strip() for s in re.split(SEP, match.group(1))]
                # "Collections > Promises to Pay" ends at "Pay"; drop a trailing small word.
                segments = [
                    " ".join(_trim(segment.split())) for segment in segments if segment.strip()
                ]
                yield path.relative_to(ROOT), segments


def _trim(words):
    while words and words[-1] in SMALL_WORDS:
        words = words[:-1]
    return words


@tagged("post_install", "-at_install")
class TestMenuPaths(TransactionCase):
    """Every "Invoicing > Collections > ..." a message, label or README gives a user is a
    menu that exists (or, after "Settings", a section and setting of the settings page)."""

    def test_paths_found(self):
        # The scanner itself: it sees paths in strings, documents and scripts.
        found = {(str(path), " > ".join(segments)) for path, segments in menu_paths()}
        self.assertTrue(any(p.endswith("dunning_dispute.py") for p, _ in found), found)
        self.assertTrue(any(p.endswith("USAGE.md") for p, _ in found), found)
        self.assertTrue(any(p.endswith("demo.sh") for p, _ in found), found)

    def test_every_path_is_a_menu(self):
        menus = {
            menu.complete_name
            for menu in self.env["ir.ui.menu"].with_context(active_test=False).search([])
        }
        settings_arch = self.env["res.config.settings"].get_views([(False, "form")])["views"][
            "form"
        ]["arch"]
        wrong = []
        for path, segments in menu_paths():
            if segments[0] == "Collections":
                segments = ["Invoicing", *segments]
            if "/".join(segments) in menus:
                continue
            if "Settings" in segments:
                at = segments.index("Settings") + 1
                menu, labels = segments[:at], segments[at:]
                if "/".join(menu) in menus or menu == ["Settings"]:
                    # After "Settings": a section title, then a setting's label.
                    missing = [label for label in labels if f'"{label}' not in settings_arch]
                    if labels and not missing:
                        continue
            wrong.append(f"{path}: {' > '.join(segments)}")
        self.assertFalse(wrong, "menu paths that are no menu:\n" + "\n".join(wrong))

    def test_collections_menu_groups(self):
        """Collections is split in daily work, analysis and configuration (managers)."""
        root = self.env.ref("dunning_b2b.dunning_b2b_menu_root")
        self.assertEqual(root.child_id.mapped("name"), ["Daily Work", "Analysis", "Configuration"])
        daily = self.env.ref("dunning_b2b.dunning_daily_menu")
        self.assertEqual(
            daily.child_id.mapped("name"),
            ["My Worklist", "Overdue", "Messages to Review", "Holds to Decide", "Promises",
             "Disputes", "Final Resolutions"],
        )  # fmt: skip
        configuration = self.env.ref("dunning_b2b.dunning_configuration_menu")
        self.assertEqual(configuration.group_ids, self.env.ref("dunning_b2b.group_dunning_manager"))
        collector = self.env["res.users"].create(
            {
                "name": "Menu Collector",
                "login": "menu_collector",
                "group_ids": [
                    (6, 0, [self.env.ref("base.group_user").id,
                            self.env.ref("dunning_b2b.group_dunning_user").id])
                ],
            }
        )  # fmt: skip
        visible = self.env["ir.ui.menu"].with_user(collector)._visible_menu_ids()
        self.assertIn(daily.id, visible)
        self.assertNotIn(configuration.id, visible)
