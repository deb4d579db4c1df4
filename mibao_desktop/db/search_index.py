"""The search index of a ledger table's ``search_text``: SQLite FTS5 (trigram) or PostgreSQL
pg_trgm. Both answer a word of three or more characters from an index.

On SQLite the FTS5 table is an external-content index of the ledger table, written by the
repository in the same transaction as the rows (``add``/``remove``). Triggers would do the
same, but FTS5 inserts made from a trigger cost three times as much as the same inserts made
directly (measured: 4,400 against 15,300 rows/s), and imports must be fast. On PostgreSQL a
GIN trigram index on the column keeps itself.

Words of one or two characters (黄, 黄子, zz) are shorter than a trigram, so FTS5 cannot
answer them as phrases. They are answered from the index's own vocabulary instead: every
occurrence of 黄子 is the start of some trigram 黄子X (each search text ends with
:data:`TEXT_END`, so even the last characters of a text start a trigram), and the trigrams
beginning with 黄子 are a range of the vocabulary. A rare short word therefore costs a
few index reads instead of a scan of every text (黄子 at a million records: 0.3 ms against
0.56 s). The vocabulary counts each trigram's documents, which is why :func:`term_ids` can
give up early on a word in too many records.

The revision that creates a ledger table calls :func:`create` for it.
"""

from __future__ import annotations

import re
import weakref
from typing import Iterable, Sequence

from sqlalchemy import column, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TableClause


TEXT_END = "\n\n"  # ends every search text: its last character still starts a trigram


def fts_table(table_name: str) -> str:
    return f"{table_name}_fts"


def vocab_table(table_name: str) -> str:
    """The fts5vocab view of the index's trigrams (no data of its own)."""
    return f"{table_name}_fts_vocab"


def trigram_index(table_name: str) -> str:
    return f"ix_{table_name}_search_trgm"


# ledgers whose search texts SQLite also keeps in the order shown (revision 0029): ledger key →
# the sort column. A walk in that order reads the texts one after another from
# ``<search table>_walk`` (sort_key, id, search_text; clustered on sort_key, id; kept by
# triggers), instead of looking each up by id.
WALKS = {"carriers": "carrier_number"}
# the same on PostgreSQL (revision 0031): there a walk joined each row's text by id (2.6 µs a
# row at a million computers, against 0.4-1 read in order), and pg_trgm, without positions and
# keeping letters and digits only, cannot answer a number's or a MAC's start (jm-01, 00-1a-2b-00-6)
# from a few rows: read in order, a page of such a word is found in its first rows
PG_WALKS = {"computers": "asset_number"}
_WALK_TABLES: dict[str, TableClause] = {}


def walks(dialect: str) -> dict[str, str]:
    """The ledgers whose search texts ``dialect``'s database also keeps in order: key → sort column."""
    return WALKS if dialect == "sqlite" else PG_WALKS if dialect == "postgresql" else {}


def walk_table(table_name: str) -> TableClause:
    """The texts of ``table_name`` (a search table of a ledger of :data:`WALKS`) in order."""
    walk = _WALK_TABLES.get(table_name)
    if walk is None:
        walk = _WALK_TABLES[table_name] = table(f"{table_name}_walk", column("sort_key"), column("id"),
                                                column("search_text"))
    return walk


def create(conn: Connection, table_name: str) -> None:
    """Make the index of ``table_name`` and fill it from the rows already there."""
    if conn.dialect.name == "sqlite":
        fts = fts_table(table_name)
        conn.exec_driver_sql(f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table_name}',"
                             " content_rowid='id', tokenize='trigram')")
        conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        create_vocab(conn, table_name)
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        conn.exec_driver_sql(f"CREATE INDEX {trigram_index(table_name)} ON {table_name} "
                             "USING gin (search_text gin_trgm_ops)")


def create_vocab(conn: Connection, table_name: str) -> None:
    conn.exec_driver_sql(f"CREATE VIRTUAL TABLE IF NOT EXISTS {vocab_table(table_name)} "
                         f"USING fts5vocab({fts_table(table_name)}, 'row')")


def drop(conn: Connection, table_name: str) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {vocab_table(table_name)}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {fts_table(table_name)}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {trigram_index(table_name)}")


AUTOMERGE = 4  # FTS5's default: segments of a level merged once this many are there
BULK_AUTOMERGE = 16  # while an import rebuilds the index (see rebuild)


def rebuild(conn: Connection, table_name: str, *, bulk: bool = False) -> None:
    """Index every row again. ``bulk``: a large import's (see :func:`set_automerge`)."""
    if conn.dialect.name == "sqlite":
        fts = fts_table(table_name)
        if bulk:
            set_automerge(conn, table_name, BULK_AUTOMERGE)
        conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        if bulk:
            set_automerge(conn, table_name, AUTOMERGE)


def set_automerge(conn: Connection, table_name: str, segments: int) -> None:
    """How many segments of a level FTS5 gathers before merging them (SQLite). A large import
    indexes its rows with sixteen instead of four, inside its own transaction, and puts the
    usual setting back before it commits: measured at 100,000 records, a rebuild 7.4 → 5.3 s
    ending with fewer segments (9 against 15, searches no slower), and 40,000 records added
    to 60,000 10.6 → 8.6 s."""
    if conn.dialect.name == "sqlite":
        fts = fts_table(table_name)
        conn.exec_driver_sql(f"INSERT INTO {fts}({fts}, rank) VALUES ('automerge', {int(segments)})")


def count_problem(conn: Connection, table_name: str) -> str | None:
    """The quick, read-only comparison: the index holds as many documents as the search table
    has rows (a row written without its index entry, or left behind, shows here). None when
    they agree. Milliseconds; takes no lock."""
    if conn.dialect.name != "sqlite":
        return None
    fts = fts_table(table_name)
    indexed = conn.exec_driver_sql(f"SELECT count(*) FROM {fts}_docsize").scalar()
    rows = conn.exec_driver_sql(f"SELECT count(*) FROM {table_name}").scalar()
    if indexed != rows:
        return f"{table_name} 的搜索索引与数据不一致(索引 {indexed} 条,数据 {rows} 条)"
    return None


def walk_problem(conn: Connection, table_name: str, rows_table: str, column: str, *,
                 thorough: bool = False) -> str | None:
    """The texts kept in order (``<table_name>_walk``, a ledger of :data:`WALKS` on SQLite or of
    :data:`PG_WALKS` on PostgreSQL) against the rows and their texts: as many (read-only,
    milliseconds on SQLite), and with ``thorough`` each one the same (sort key, id, text). A walk
    reads nothing else: a text missing there is a row no search in that order finds. None when
    they agree."""
    walk = f"{table_name}_walk"
    rows = f"SELECT t.{column}, t.id, s.search_text FROM {rows_table} AS t JOIN {table_name} AS s ON s.id = t.id"
    kept = conn.exec_driver_sql(f"SELECT count(*) FROM {walk}").scalar()
    there = conn.exec_driver_sql(f"SELECT count(*) FROM ({rows}) AS r").scalar()
    if kept == there and thorough:
        kept = there - conn.exec_driver_sql(
            f"SELECT count(*) FROM ({rows} EXCEPT SELECT sort_key, id, search_text FROM {walk}) AS r").scalar()
    if kept != there:
        return f"{table_name} 按顺序保存的搜索文字与数据不一致(一致 {kept} 条,数据 {there} 条)"
    return None


def check(conn: Connection, table_name: str) -> str | None:
    """None when the index matches the table token by token; else what is wrong (FTS5's
    integrity check). It is a write command: it holds the database's write lock while it
    runs (about 16 s for a million records), so only ``mibao check`` runs it."""
    if conn.dialect.name != "sqlite":
        return None
    fts = fts_table(table_name)
    try:
        conn.exec_driver_sql(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)")
    except Exception as exc:  # SQLITE_CORRUPT_VTAB
        return f"{table_name} 的搜索索引与数据不一致({exc})"
    return None


def add(session: Session, table_name: str, rows: Iterable[tuple[int, str]]) -> None:
    """Index new rows (or new text of changed rows, after :func:`remove` of the old)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    params = [{"id": i, "text": t} for i, t in rows]
    if params:
        session.execute(text(f"INSERT INTO {fts_table(table_name)}(rowid, search_text) VALUES (:id, :text)"), params)


def remove(session: Session, table_name: str, rows: Iterable[tuple[int, str]]) -> None:
    """Take rows out of the index; each must come with the text it was indexed with."""
    if session.get_bind().dialect.name != "sqlite":
        return
    fts = fts_table(table_name)
    params = [{"id": i, "text": t} for i, t in rows]
    if params:
        session.execute(text(f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', :id, :text)"), params)


# -- answering a search word from the index (SQLite) ----------------------------------------

def _phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


class Sample:
    """Search texts read from a few stretches of the table spread over its ids: how common a
    word, or a trigram of it, is, and whether its rows are spread or bunched together (a run
    of serial numbers). ``share`` and ``spread`` read the sample, never the table."""

    def __init__(self, chunks: list[list[str]]) -> None:
        self.chunks = chunks
        self.rows = sum(len(c) for c in chunks)
        self._joined = ["\0".join(c) for c in chunks]
        # answers already read from the sample, which never changes: a keystroke asks the counts
        # of the word and of each of its trigrams several times, and the next keystroke most of
        # them again (a count reads the whole sample, ~40 µs a stretch: 5 ms a keystroke)
        self.memo: dict = {}

    def count(self, text: str) -> int:
        """Occurrences of ``text`` in the sample (close to the rows holding it)."""
        return sum(self._counts(text))

    def _counts(self, text: str) -> list[int]:
        counts = self.memo.get(("count", text))
        if counts is None:
            counts = self.memo[("count", text)] = [j.count(text) for j in self._joined]
        return counts

    def together(self, terms: Sequence[str]) -> tuple[int, int]:
        """(rows of the sample holding every word, stretches those rows are in)."""
        if len(terms) == 1:
            counts = self._counts(terms[0])
        else:
            key = ("together", tuple(terms))
            counts = self.memo.get(key)
            if counts is None:
                counts = self.memo[key] = [sum(1 for t in chunk if all(w in t for w in terms))
                                           for chunk in self.chunks]
        return sum(counts), sum(1 for n in counts if n)


SAMPLE_CHUNKS = 10  # stretches of the table the sample reads, spread over its ids
SAMPLE_CHUNK_ROWS = 250


def sample(conn, table_name: str) -> Sample | None:
    """A :class:`Sample` of about 2,500 search texts (a few milliseconds at any size), or None
    when the table is no larger than a few samples: then reading all of it is as cheap.
    ``conn`` is a DB-API connection."""
    small = SAMPLE_CHUNKS * SAMPLE_CHUNK_ROWS * 3
    if conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table_name} LIMIT {small + 1}) AS head"
                    ).fetchone()[0] <= small:
        return None
    # (two queries: SQLite reads min() or max() from the end of the key only when it is alone)
    low = conn.execute(f"SELECT min(id) FROM {table_name}").fetchone()[0]
    high = conn.execute(f"SELECT max(id) FROM {table_name}").fetchone()[0]
    step = max(1, (high - low) // SAMPLE_CHUNKS)
    chunks: list[list[str]] = [[] for _ in range(SAMPLE_CHUNKS)]
    union = " UNION ALL ".join(
        f"SELECT * FROM (SELECT {k}, search_text FROM {table_name} WHERE id >= {low + k * step} ORDER BY id "
        f"LIMIT {SAMPLE_CHUNK_ROWS}) AS part{k}" for k in range(SAMPLE_CHUNKS))
    for k, found in conn.execute(union):
        chunks[k].append(found)
    return Sample(chunks)


MAX_TRIGRAMS = 200  # a short word followed by more different characters is walked or scanned


def term_ids(conn, table_name: str, term: str, limit: int, known: Sample | None = None, rows: int = 0
             ) -> tuple[list[int], bool] | None:
    """The ids of the rows whose search text contains ``term`` (case-folded), from the FTS5
    index, and whether each surely holds it (False: candidates, to be tested by the caller);
    None when there are more than ``limit`` of them (a scan in the order shown then finds a
    page sooner). ``conn`` is a DB-API connection: tens of thousands of ids through
    SQLAlchemy's rows cost more than the search itself.

    A long phrase of common trigrams (the start of every serial or MAC) makes FTS5 compare
    the positions of each in every row that has them all: 00-1a-2b-00-6 costs 35 ms at a
    million records for 2,048 rows. When the sample (``known``, of a table of about ``rows``)
    shows one of its trigrams to be rare and another common, the rows holding its two rarest are asked for instead (no
    positions: 0-6 and -00, 2,415 rows), and tested by the caller.
    """
    fts = fts_table(table_name)
    exact = True
    if len(term) >= 3:
        query = _phrase(term)
        trigrams = {term[i:i + 3]: i for i in range(len(term) - 2)}
        if known is not None and known.rows and len(trigrams) >= 5:
            # rarest first; of equally rare ones the last typed (a number differs at its end)
            counts = sorted((known.count(t), -i, t) for t, i in trigrams.items())
            rare = counts[:2]
            if rare[0][0] / known.rows * rows <= limit / 2 and counts[-1][0] >= known.rows / 5:
                query, exact = " AND ".join(_phrase(t) for _n, _i, t in rare), False
    else:
        trigrams, documents = [], 0
        # the vocabulary's range of trigrams that begin with the word, each with its documents
        # (their sum bounds the matches; a trigram is read only while the bound stays small)
        cursor = conn.execute(f"SELECT term, doc FROM {vocab_table(table_name)} WHERE term >= ? AND term < ?",
                              (term, term + "\U0010ffff"))
        for trigram, doc in cursor:
            documents += doc
            # one record can hold the word in several trigrams; and an OR of thousands of
            # phrases costs seconds however few rows each holds (张 before every given name)
            if documents > limit * 2 or len(trigrams) >= MAX_TRIGRAMS:
                cursor.close()
                return None
            trigrams.append(trigram)
        if not trigrams:
            return [], True
        query = " OR ".join(_phrase(t) for t in trigrams)
    ids = [r[0] for r in conn.execute(f"SELECT rowid FROM {fts} WHERE {fts} MATCH ? LIMIT ?",
                                      (query, limit + 1)).fetchall()]
    if len(ids) > limit:
        if not exact:  # the rare trigrams were not rare enough: the phrase itself
            return term_ids(conn, table_name, term, limit)
        return None
    return ids, exact


def first_ids(conn, table_name: str, term: str, limit: int) -> list[int] | None:
    """The ids, lowest first, of up to ``limit`` rows whose search text holds ``term`` (each
    surely does), from the FTS5 index; None when it cannot say at once (a short word
    followed by more than MAX_TRIGRAMS different characters). FTS5 reads its lists in id
    order and stops at ``limit``: a word in many rows is seen in a few ms (jm-01 in 10,000
    of a million: 1.5 ms for a thousand, 20 ms for all), a rare one is had whole."""
    if len(term) >= 3:
        query = _phrase(term)
    else:
        trigrams = [r[0] for r in conn.execute(f"SELECT term FROM {vocab_table(table_name)} WHERE term >= ? AND term < ? "
                                               "LIMIT ?", (term, term + "\U0010ffff", MAX_TRIGRAMS + 1))]
        if len(trigrams) > MAX_TRIGRAMS:
            return None
        if not trigrams:
            return []
        query = " OR ".join(_phrase(t) for t in trigrams)
    fts = fts_table(table_name)
    return [r[0] for r in conn.execute(f"SELECT rowid FROM {fts} WHERE {fts} MATCH ? LIMIT ?", (query, limit)).fetchall()]


# pg_trgm is asked for the pieces of a word in fewer than this share of the sample's texts, up to
# RARE_PIECES of them: a trigram's list costs little to read (a million rows: ~8 ms), each row
# it lists and tests a few µs (jmsn0012 by n00 alone: 100,000 rows, 690 ms)
RARE_SHARE = 0.3
RARE_PIECES = 3
_WORD = re.compile(r"[^\W_]+")  # pg_trgm's words: it keeps letters and digits only
_PIECE_COUNTS: "weakref.WeakKeyDictionary[Sample, dict]" = weakref.WeakKeyDictionary()


def _in_texts(known: Sample, kind: str, key: str) -> int:
    """How often the sample holds ``key`` within a word ("in"), beginning one ("start") or
    ending one ("end"), as pg_trgm sees words (about the texts holding it); of a key found
    more than PIECE_PLACES times, its share of those that begin or end a word is taken from
    the first PIECE_PLACES (a Python loop, where counting is not). Kept with the sample: a
    keystroke's pieces are mostly the last one's."""
    counts = _PIECE_COUNTS.get(known)
    if counts is None:
        counts = _PIECE_COUNTS[known] = {}
    found = counts.get((kind, key))
    if found is None:
        found = sum(joined.count(key) for joined in known._joined)
        if kind != "in" and found:
            seen = fits = 0
            for joined in known._joined:
                i = joined.find(key)
                while i >= 0 and seen < PIECE_PLACES:
                    j = i - 1 if kind == "start" else i + len(key)
                    seen += 1
                    fits += j < 0 or j >= len(joined) or not joined[j].isalnum()
                    i = joined.find(key, i + 1)
            found = round(fits / seen * found)
        counts[(kind, key)] = found
    return found


PIECE_PLACES = 2000


def rare_trigrams(known: Sample, term: str) -> tuple[list[str], float]:
    """The pieces of ``term`` that pg_trgm is best asked for (PostgreSQL), each a part of the
    word for LIKE, and the share of the sample's texts holding them all (about the share of
    the rows pg_trgm lists and tests for them; 1 when the word has no piece).

    pg_trgm keeps letters and digits only and pads each word: its trigrams of a word are those
    within its runs of letters and digits (jmsn0012: jms … 012), and " ab" for a run that
    starts after another character, "ab " for one ending before one (00-1a-2b-00-60: " 1a",
    "1a ", " 60" …). Each trigram it reads costs its list of rows, and most are in every
    computer (jms, msn, sn0; " 1a", " 2b"), while the rows it lists for the others are few
    together. So it is asked for the rarest pieces in the sample that are not in most texts
    (jmsn0012: n00, 012, 001; 00-1a-2b-00-60: -60), or, when each is, the rarest."""
    pieces: dict[str, tuple[str, str]] = {}  # LIKE piece → (kind, what the sample is searched for)
    for m in _WORD.finditer(term):
        run, a, b = m.group(), m.start(), m.end()
        for i in range(len(run) - 2):
            pieces.setdefault(run[i:i + 3], ("in", run[i:i + 3]))
        if len(run) > 1 and a > 0:
            pieces.setdefault(term[a - 1] + run[:2], ("start", run[:2]))
        if len(run) > 1 and b < len(term):
            pieces.setdefault(run[-2:] + term[b], ("end", run[-2:]))
    if not pieces or not known.rows:
        return [], 1.0
    common = max(1, int(RARE_SHARE * known.rows))
    # rarest first; of equally rare ones the last typed (a number differs at its end)
    ranked = sorted((_in_texts(known, kind, key), -i, piece)
                    for i, (piece, (kind, key)) in enumerate(pieces.items()))
    chosen = [piece for n, _i, piece in ranked[:RARE_PIECES] if n < common] or [ranked[0][2]]
    # the rows pg_trgm lists for them: no more than for the rarest
    return chosen, min(1.0, ranked[0][0] / known.rows)


def trigram_ids(conn, table_name: str, term: str, grams: Sequence[str], limit: int) -> list[int]:
    """PostgreSQL: the ids of up to ``limit`` rows whose search text contains ``term``, from
    the pg_trgm index asked for ``grams`` (pieces of the word, :func:`rare_trigrams`; the
    word itself when there are none), in the table's order. It stops at ``limit``: a word in
    many rows is seen in the few it lists and tests before that."""
    grams = list(grams) or [term]
    # from the index, never a scan of the table: the planner, taking a piece in a few percent of
    # the rows, would read the table from wherever another scan is (synchronize_seqscans) until
    # it had ``limit`` rows, every row of it for a rarer word than it thinks (jmsn001 by n00)
    before = conn.execute("SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)"
                          ).fetchone()[0]
    ids = [r[0] for r in conn.execute(
        f"SELECT id FROM {table_name} WHERE " + " AND ".join(["search_text LIKE %s"] * len(grams))
        + " AND strpos(search_text, %s) > 0 LIMIT %s", (*[_like(g) for g in grams], term, limit)).fetchall()]
    conn.execute("SELECT set_config('enable_seqscan', %s, true)", (before,))
    return ids


def like_ids(conn, table_name: str, term: str, limit: int, grams: Sequence[str] = ()
             ) -> tuple[list[int], bool] | None:
    """PostgreSQL: the ids of the rows whose search text contains ``term``, from the pg_trgm
    index (a word of three or more characters; None for a shorter one, which it cannot
    answer, and when there are more than ``limit``). ``conn`` is psycopg's connection.
    ``grams``: the trigrams pg_trgm is asked for (:func:`rare_trigrams`), the word then tested
    on the rows holding them all (jmsn0012: 47 → 10 ms at a million computers)."""
    if len(term) < 3:
        return None
    if grams:
        ids = trigram_ids(conn, table_name, term, grams, limit + 1)
        return None if len(ids) > limit else (ids, True)
    # pg_trgm keeps letters and digits only, and pads a word that begins after a hyphen: jm-012346
    # asks for "jm ", "  0" and " 01", which every number has (43 ms for one row at a million
    # computers). Its longest run of letters and digits between wildcards asks for 012, 123, 234
    # and 346 alone, the word itself then tested on those rows (5 ms). A run of three is one
    # trigram, often a common one (012: 111 against 46 ms): then the word as it is.
    run = max(re.findall(r"[^\W_]+", term), key=len, default="")
    if len(run) >= 4 and run != term:
        ids = [r[0] for r in conn.execute(
            f"SELECT id FROM {table_name} WHERE search_text LIKE %s AND strpos(search_text, %s) > 0 LIMIT %s",
            (_like(run), term, limit + 1)).fetchall()]
    else:
        ids = [r[0] for r in conn.execute(f"SELECT id FROM {table_name} WHERE search_text LIKE %s LIMIT %s",
                                          (_like(term), limit + 1)).fetchall()]
    return None if len(ids) > limit else (ids, True)


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
