import re
from pathlib import Path

from odoo.tests import BaseCase, tagged

ADDONS = Path(__file__).resolve().parents[2]
SUDO = re.compile(r"\.sudo\(\)")
REASON = re.compile(r"#\s*sudo: \S")
# How far above a sudo() its comment may stand: the first line of a statement spanning a
# few lines (``states = (`` / ``self.env[...]`` / ``.sudo()``).
STATEMENT_LINES = 12


def missing_reasons(path):
    """Lines of ``path`` calling ``sudo()`` without a ``# sudo: <reason>`` on that line or
    above it in the same statement (up to a blank line, a ``def`` or a docstring)."""
    lines = path.read_text().split("\n")
    missing = []
    for number, line in enumerate(lines, start=1):
        if not SUDO.search(line.split("#")[0]):
            continue
        if REASON.search(line):
            continue
        above = number - 2
        while above >= 0 and number - 1 - above <= STATEMENT_LINES:
            text = lines[above].strip()
            if REASON.search(text):
                break
            if not text or text.startswith(("def ", '"""', "@")):
                above = -1
                break
            above -= 1
        else:
            above = -1
        if above < 0:
            missing.append(f"{path.relative_to(ADDONS)}:{number}: {line.strip()}")
    return missing


@tagged("post_install", "-at_install")
class TestSudoReasons(BaseCase):
    """Every sudo() of both addons says why, in a ``# sudo: <reason>`` comment: the reason
    is what a reviewer checks against the company scope (a sudo search or write must stay in
    the user's companies or the records' company)."""

    def test_every_sudo_says_why(self):
        files = [
            path
            for addon in ("dunning_b2b", "dunning_b2b_sale")
            for path in sorted((ADDONS / addon).rglob("*.py"))
            if "tests" not in path.relative_to(ADDONS / addon).parts
        ]
        self.assertTrue(files)
        missing = [entry for path in files for entry in missing_reasons(path)]
        self.assertFalse(
            missing, "sudo() without a '# sudo: <reason>' comment:\n" + "\n".join(missing)
        )
