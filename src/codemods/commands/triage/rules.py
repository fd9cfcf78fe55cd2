"""The triage rules: which category a failed test belongs to, and which stabfix command fixes it.

A failed test is matched against every rule; each match names a category with a specificity, and
the most specific one wins (the others are kept as ``also``). The table, most specific first:

=====  ============  ==========================================================================
 100   parallel      an xdist crash line names the test (``worker 'gw3' crashed while running``)
  90   flaky         the same test failed in one JUnit run and passed in another
  88   config        a provider error that retrying cannot fix: invalid API key, quota / billing, a missing
                     ``*_API_KEY`` variable, no network (``Network is unreachable``)
  85   parallel      ``MemoryError`` in the test's failure
  80   external      a provider's own auth error (``litellm.AuthenticationError``, ``OpenAIException``)
  70   auth          401 / ``Authentication Error`` / ``Unauthorized`` / the proxy's token message
  60   external      rate limits, 429, connection errors, 5xx, ``APIConnectionError``, read timeouts
  50   timing        timeouts, ``Expected ... to have been called``, ``call_count`` right after an action
   0   unknown       nothing matched: listed as is, never guessed
=====  ============  ==========================================================================

The rules read the first :data:`~codemods.commands.triage.logs.MAX_LINE` characters of each line of a
failure's text, and no pattern re-scans a line from every start position: classifying stays
linear however long the messages are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from codemods.commands.triage.logs import MAX_LINE
from codemods.commands.triage.model import Command


@dataclass(frozen=True)
class Rule:
    category: str
    specificity: int
    pattern: re.Pattern[str]
    why: str


RULES: tuple[Rule, ...] = (
    Rule("config", 88, re.compile(
        r"[Ii]ncorrect API key|invalid[_ ]api[_ ]key|[Ii]nvalid API [Kk]ey|API key not valid|invalid x-api-key"
        r"|insufficient_quota|exceeded your current quota|check your plan and billing|billing_hard_limit"
        r"|api_key client option must be set|_API_KEY(?: is| was)? (?:not set|missing|unset)"
        r"|[Mm]issing (?:\w+_)?API[_ ]?KEY|Network is unreachable|\w\.AuthenticationError"),
        "not transient: credentials, quota, network"),
    Rule("parallel", 85, re.compile(r"\bMemoryError\b|Out of memory|Cannot allocate memory"), "memory"),
    Rule("external", 80, re.compile(
        # "<Provider>Exception - " then, later on its line, a credentials error; the scan after one
        # "Exception - " stops at the next, which a new attempt scans from (no re-scanning)
        r"litellm\.(?:AuthenticationError|PermissionDeniedError)|\wException - (?:(?!\wException - ).)*?"
        r"(?:401|[Ii]ncorrect API key|invalid x-api-key|API key not valid)|Incorrect API key provided"),
        "provider credentials"),
    Rule("auth", 70, re.compile(
        r"Authentication Error|Invalid proxy server token|No api key passed in|\bUnauthorized\b"
        r"|(?<![:\d.])401(?![:\d.])|auth_error"), "401 from the proxy's auth dependency"),
    Rule("external", 60, re.compile(
        r"APIConnectionError|RateLimitError|[Rr]ate ?limit|(?<![:\d.])429(?![:\d.])|Too Many Requests"
        r"|ConnectionError|ConnectError|Connection (?:refused|reset|aborted|error)|RemoteDisconnected"
        r"|ServiceUnavailable|Service Unavailable|InternalServerError|Internal Server Error|Bad Gateway"
        r"|BadGatewayError|(?<![:\d.])50[234](?![:\d.])|name resolution|Name or service not known"
        r"|ReadTimeout|ConnectTimeout|APITimeoutError|overloaded_error|Overloaded"), "provider / network"),
    Rule("timing", 50, re.compile(
        r"Timeout|TimeoutError|timed out|Expected '?[\w.]+'? to (?:have been called|be called)"
        r"|to have been awaited|call_count|assert_called|assert_awaited|Called 0 times"), "timing"),
)

SPECIFICITY = {"parallel-crash": 100, "flaky": 90}


def classify(text: str) -> list[tuple[int, str]]:
    """``(specificity, category)`` of every rule the failure text matches, most specific first."""
    if len(text) > MAX_LINE:
        text = "\n".join(line[:MAX_LINE] for line in text.split("\n"))
    hits: dict[str, int] = {}
    for rule in RULES:
        if rule.pattern.search(text):
            hits[rule.category] = max(hits.get(rule.category, 0), rule.specificity)
    return sorted(((s, c) for c, s in hits.items()), reverse=True)


def python_ids(ids: list[str]) -> list[str]:
    """The pytest node ids among ``ids`` (vitest's ``file.ts > suite > test`` are not: see triage/vitest.py)."""
    return [i for i in ids if i.split("::", 1)[0].endswith(".py")]


def migration_name_from_summary(lines: list[str]) -> str:
    """A folder name from Prisma's drift summary (``[+] Added tables`` / ``- cat``, ``[*] Changed the `Cat` table``)."""
    added = changed = None
    in_added = False
    for line in lines:
        text = line.strip()
        m = re.match(r"\[\*\] Changed the `(\w+)` table", text)
        if m and changed is None:
            changed = m.group(1)
        in_added = text.startswith("[+] Added tables") or (in_added and text.startswith("- "))
        if in_added and text.startswith("- ") and added is None:
            added = text[2:].strip("` ")
    if added and re.fullmatch(r"\w+", added):
        return f"create_{added.removeprefix('LiteLLM_').lower()}"
    if changed:
        return f"update_{changed.removeprefix('LiteLLM_').lower()}"
    return "schema_update"


def files_of(ids: list[str]) -> list[str]:
    """The test modules of node ids, in first-seen order."""
    out: list[str] = []
    for nodeid in ids:
        path = nodeid.split("::", 1)[0]
        if path.endswith(".py") and path not in out:
            out.append(path)
    return out


def only(ids: list[str]) -> list[tuple[str, str | None]]:
    # one flag per id: parametrized ids may contain commas
    return [("--only", i) for i in ids]


def test_command(fixer: str, ids: list[str], *, extra: list[tuple[str, str | None]] | None = None,
                 note: str = "", stopgap: bool = False) -> Command:
    return Command(fixer, files_of(ids), [*(extra or []), *only(ids)], note=note, stopgap=stopgap)


def migration_name(sql: str) -> str:
    """A descriptive folder name from the SQL (``add_spendlogs_columns``), ``schema_update`` otherwise."""
    tables = list(dict.fromkeys(re.findall(r'^(?:CREATE|ALTER) TABLE (?:IF NOT EXISTS )?"?(\w+)"?', sql, re.M)))
    if len(tables) == 1:
        table = tables[0].removeprefix("LiteLLM_").lower()
        verb = "create" if re.search(rf'^CREATE TABLE (?:IF NOT EXISTS )?"?{tables[0]}"?', sql, re.M) else "update"
        return f"{verb}_{table}"
    return "schema_update"


def lower_workers(current: int | None) -> int | None:
    """Half the workers (LiteLLM went from -n 8 to -n 4), at least 1; None when unknown or already 1."""
    if current is None or current <= 1:
        return None
    return max(1, current // 2)


_PATCHES_AUTH = re.compile(r"patch(?:\.object)?\(\s*[^()]{0,200}?user_api_key_auth", re.S)


def patches_auth(path: Path) -> bool:
    """Whether a test module patches the auth dependency with unittest.mock (``auth-unpatch`` rewrites it)."""
    try:
        return bool(_PATCHES_AUTH.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False
