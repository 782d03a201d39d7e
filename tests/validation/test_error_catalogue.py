"""The error catalogue: stable codes, documented one row each in docs/errors.md, all exercised."""

from __future__ import annotations

import re
from pathlib import Path

from tfext.errors import Code, Problem, TfextError

from . import test_broken_material, test_openssl_material

ERRORS_MD = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
ROW = re.compile(r"^\| (TFEXT-E\d{3}) \| ([^|]+) \| (.+) \| (.+) \|$")


def _rows() -> dict[str, tuple[str, str, str]]:
    rows: dict[str, tuple[str, str, str]] = {}
    for line in ERRORS_MD.read_text("utf-8").splitlines():
        match = ROW.match(line)
        if match:
            tag, title, means, fix = (g.strip() for g in match.groups())
            assert tag not in rows, f"{tag} has two rows"
            rows[tag] = (title, means, fix)
    return rows


def test_docs_errors_md_has_one_row_per_code_and_no_other():
    assert sorted(_rows()) == sorted(c.tag for c in Code)


def test_each_documented_code_has_its_title_a_meaning_and_a_fix():
    rows = _rows()
    for code in Code:
        title, means, fix = rows[code.tag]
        assert title == code.title, code.tag
        assert len(means) > 20 and len(fix) > 20, code.tag


def test_docs_errors_md_mentions_no_code_tfext_lacks():
    mentioned = set(re.findall(r"TFEXT-E\d{3}", ERRORS_MD.read_text("utf-8")))
    assert mentioned <= {c.tag for c in Code}


def test_codes_are_unique_and_tags_have_three_digits():
    numbers = [c.number for c in Code]
    assert len(numbers) == len(set(numbers))
    assert all(re.fullmatch(r"TFEXT-E\d{3}", c.tag) for c in Code)


def test_every_message_carries_its_code_tag():
    one = TfextError.of(Code.EXPIRED, "apiserver", "expired")
    two = TfextError([Problem(Code.NOT_PEM, "a", "x"), Problem(Code.EXPIRED, "b", "y")])
    assert str(one) == "TFEXT-E040 apiserver: expired"
    assert str(two).splitlines()[1:] == ["  1. TFEXT-E023 a: x", "  2. TFEXT-E040 b: y"]


def test_a_runaway_list_of_problems_is_cut_short_with_a_count():
    many = TfextError([Problem(Code.INVALID_VALUE, f"query.k{i}", "bad") for i in range(500)])
    lines = str(many).splitlines()
    assert lines[0] == "500 problems found:" and lines[-1] == "  ... and 450 more" and len(lines) == 52


def test_every_file_and_certificate_rule_has_a_broken_case_in_the_tables():
    rule_codes = {c for c in Code if 20 <= c.number < 50} - {Code.EXPIRES_SOON, Code.OUTLIVES_CA}
    covered = {code for c in test_broken_material.CASES + test_openssl_material.CASES for code in c.codes}
    assert sorted(c.tag for c in rule_codes - covered) == []
