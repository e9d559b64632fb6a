"""``?`` becomes ``$n`` only where PostgreSQL would read a parameter; row counts come from status strings."""

from __future__ import annotations

import pytest

from coordination import PlaceholderError
from coordination._pg_session import channel_name
from coordination._placeholders import to_numbered
from coordination._postgres import advisory_key, row_count


@pytest.mark.parametrize(
    ("sql", "numbered"),
    [
        ("SELECT ?, ?", "SELECT $1, $2"),
        ("SELECT '?', ?", "SELECT '?', $1"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"),
        ("SELECT E'it\\'s ?', ?", "SELECT E'it\\'s ?', $1"),
        ('SELECT "col?" FROM t WHERE a = ?', 'SELECT "col?" FROM t WHERE a = $1'),
        ("SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"),
        ("SELECT /* ? */ ?", "SELECT /* ? */ $1"),
        ("SELECT $$ ? $$, ?", "SELECT $$ ? $$, $1"),
        ("SELECT $fn$ a ? $$ b $fn$, ?", "SELECT $fn$ a ? $$ b $fn$, $1"),
        ("SELECT ?::int", "SELECT $1::int"),
        ("SELECT 'a' 'b?' || ?", "SELECT 'a' 'b?' || $1"),
        ("WHERE name='x?'AND b=?", "WHERE name='x?'AND b=$1"),
    ],
)
def test_placeholders_outside_quotes_and_comments_are_numbered(sql: str, numbered: str) -> None:
    assert to_numbered(sql) == numbered


@pytest.mark.parametrize("sql", ["SELECT '?", 'SELECT "?', "SELECT /* ?", "SELECT $$ ?", "SELECT $t$ ? $$"])
def test_an_unterminated_quote_is_an_error_not_a_guess(sql: str) -> None:
    with pytest.raises(PlaceholderError, match="unterminated"):
        to_numbered(sql)


@pytest.mark.parametrize(
    ("status", "count"),
    [("INSERT 0 3", 3), ("UPDATE 2", 2), ("DELETE 0", 0), ("SELECT 1", 1), ("CREATE TABLE", 0), ("COPY 10", 10)],
)
def test_the_row_count_is_read_off_the_status(status: str, count: int) -> None:
    assert row_count(status) == count


def test_channel_names_are_short_readable_and_distinct() -> None:
    long_a, long_b = "console:" + "a" * 80 + "1", "console:" + "a" * 80 + "2"
    names = {channel_name(name) for name in (long_a, long_b, "inbox:événement", "inbox:ev_nement")}
    assert len(names) == 4
    assert all(len(name.encode()) <= 63 and name.isascii() for name in names)
    assert channel_name("inbox:live").startswith("hb.inbox:live.")


def test_advisory_keys_are_signed_64_bit_and_stable() -> None:
    assert advisory_key("lock:a") == advisory_key("lock:a") != advisory_key("lock:b")
    assert all(-(2**63) <= advisory_key(f"k{n}") < 2**63 for n in range(100))
