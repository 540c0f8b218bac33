"""Turn the log of Odoo's test runner into a pytest-style closing line and an exit code."""

import re
import sys


def main(log_path, status, *extra_failed):
    with open(log_path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    total = sum(int(n) for n in re.findall(r"(\d+) post-tests in", text))
    failed = len(re.findall(r"^\S+ \S+ \d+ ERROR \S+ \S+: (?:FAIL|ERROR): ", text, re.MULTILINE))
    skipped = len(re.findall(r" INFO \S+ \S+: skipped ", text))
    crashed = "Failed to initialize database" in text or ("Traceback" in text and not total)
    passed = max(total - failed - skipped, 0)
    odoo_ran = total > 0
    if not odoo_ran:
        print("no test ran: see the log")
    for extra in extra_failed:  # one more check run outside Odoo's runner, each
        total += 1
        if int(extra):
            failed += 1
        else:
            passed += 1
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or crashed or int(status) or not odoo_ran else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
