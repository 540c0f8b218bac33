"""Checks of the shell scripts, run by scripts/test.sh (one more test in its summary line).

1. scripts/pg_ensure.sh acts as the "postgres" superuser: it must work whatever libpq
   variables (PGUSER, PGHOST, PGPASSWORD, ...) the user's shell carries; and every script
   that runs Odoo (which reads them before its configuration file) or a PostgreSQL tool
   forgets them first (sources scripts/no_pg_env.sh).
2. No script under scripts/ or bench/ can stop on "unbound variable" under ``set -u``: every
   variable it expands is assigned in the script before (or is a loop/read variable, or a
   variable every shell has), or is expanded with a default (``${X:-...}``) or a guard
   (``${X:?...}``, after which it counts as set).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALWAYS_SET = {"HOME", "PATH", "PWD", "UID", "EUID", "BASH_SOURCE", "FUNCNAME", "LINENO"}
SPECIAL = set("?!$#@*-0")
HOSTILE_PG_ENV = {
    "PGUSER": "nobody",
    "PGHOST": "/nonexistent",
    "PGPASSWORD": "wrong",
    "PGPORT": "1",
    "PGDATABASE": "nowhere",
}


def check_pg_ensure():
    env = dict(os.environ, **HOSTILE_PG_ENV)
    result = subprocess.run(
        [str(ROOT / "scripts" / "pg_ensure.sh")], env=env, capture_output=True, text=True
    )
    if result.returncode or not re.fullmatch(r"PG_PORT=\d+\n", result.stdout):
        return [
            f"pg_ensure.sh with {HOSTILE_PG_ENV} set: exit {result.returncode}, "
            f"stdout {result.stdout!r}, stderr {result.stderr.strip()!r}"
        ]
    return []


PG_USE = re.compile(r"python3 -m odoo|\b(?:psql|createdb|dropdb|pg_isready)\b")
SOURCES_NO_PG_ENV = re.compile(r"^\s*(?:\.|source)\s.*no_pg_env\.sh")


def check_no_pg_env(paths):
    env = dict(os.environ, **HOSTILE_PG_ENV)
    script = f". {ROOT / 'scripts' / 'no_pg_env.sh'}; compgen -e | grep -E '^PG[A-Z]' || true"
    left = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    problems = []
    if left.stdout.strip() or left.returncode:
        problems.append(f"no_pg_env.sh left {left.stdout.split()} ({left.stderr.strip()})")
    for path in paths:
        sourced = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if SOURCES_NO_PG_ENV.match(code):
                sourced = True
            elif PG_USE.search(code) and not sourced:
                problems.append(
                    f"{path.relative_to(ROOT)}:{number}: runs Odoo or a PostgreSQL tool "
                    "before sourcing scripts/no_pg_env.sh (the user's PG* variables steer it)"
                )
                break
    return problems


def _expansions(text):
    """Yield (line number, kind, name, operator) for every assignment and expansion in a bash
    script, in order; quoted heredocs, single-quoted strings and comments are skipped."""
    lines = text.splitlines()
    heredoc_end = None
    in_function = False
    for number, line in enumerate(lines, 1):
        if re.match(r"\s*\w+\(\)\s*\{", line):
            in_function = not line.rstrip().endswith("}")
            yield number, "function", "", ""
        elif in_function and line.startswith("}"):
            in_function = False
        if in_function:
            yield number, "function", "", ""
        if heredoc_end is not None:
            if line.strip() == heredoc_end[0]:
                heredoc_end = None
            elif not heredoc_end[1]:
                continue  # quoted heredoc: no expansion inside
            else:
                yield from _scan(line, number, in_heredoc=True)
                continue
        heredoc = re.search(r"<<-?\s*(['\"]?)(\w+)\1", line)
        if heredoc:
            heredoc_end = (heredoc.group(2), not heredoc.group(1))
        yield from _scan(line, number)


def _scan(line, number, in_heredoc=False):
    for match in re.finditer(r"(?:^|[\s;(&|])(?:local |export |readonly )?(\w+)\+?=", line):
        yield number, "assign", match.group(1), ""
    for match in re.finditer(r"\b(?:for|read(?: -\w+)*)\s+((?:[A-Za-z_]\w*\s*)+)", line):
        for name in match.group(1).split():
            if name not in ("in", "do"):
                yield number, "assign", name, ""
    i, quoted = 0, False
    while i < len(line):
        char = line[i]
        if char == "\\":
            i += 2
            continue
        if not in_heredoc and char == '"':
            quoted = not quoted
        elif not in_heredoc and not quoted and char == "'":
            end = line.find("'", i + 1)
            i = len(line) if end < 0 else end + 1
            continue
        elif not in_heredoc and not quoted and char == "#" and (i == 0 or line[i - 1] in " \t;"):
            return
        elif char == "$":
            braced = re.match(r"\$\{#?([A-Za-z_]\w*|\d+)(\[[^]]*\])?(:?[-?=+])?", line[i:])
            plain = re.match(r"\$([A-Za-z_]\w*|\d)", line[i:])
            if braced:
                yield number, "use", braced.group(1), (braced.group(3) or "").lstrip(":")
            elif plain:
                yield number, "use", plain.group(1), ""
        i += 1


def check_unbound(paths):
    problems = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        sourced = not text.startswith("#!")  # a snippet sourced by scripts that set -u
        if not sourced and "set -u" not in text and "set -euo" not in text:
            problems.append(f"{path.relative_to(ROOT)}: does not run under set -u")
            continue
        assigned = set(ALWAYS_SET)
        function_line = guarded_line = None
        for number, kind, name, operator in _expansions(text):
            if kind == "function":
                function_line = number  # positional parameters are the function's arguments
                continue
            if operator == "+":
                guarded_line, guarded = number, name  # ${X:+...$X...}: X is set inside
            if kind == "assign" or operator in ("?", "="):
                assigned.add(name)
            elif operator in ("-", "+") or name in SPECIAL:
                continue
            elif guarded_line == number and name == guarded:
                continue
            elif name.isdigit() and function_line == number:
                continue
            elif name.isdigit() and name != "0":
                problems.append(
                    f"{path.relative_to(ROOT)}:{number}: ${name} unbound when the argument "
                    "is missing: use ${" + name + ":?usage...}"
                )
            elif name not in assigned:
                problems.append(
                    f"{path.relative_to(ROOT)}:{number}: ${name} may be unbound under set -u"
                )
    return problems


def main():
    scripts = sorted((ROOT / "scripts").glob("*.sh")) + sorted((ROOT / "bench").glob("*.sh"))
    problems = check_pg_ensure() + check_no_pg_env(scripts) + check_unbound(scripts)
    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"scripts check: {len(scripts)} scripts, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
