"""The inbox schema, as ordered :class:`coordination.Migration` steps, one script per dialect.

Never edit a released step: append a new one. The PostgreSQL scripts differ only in types (``REAL`` is
``DOUBLE PRECISION``, ``INTEGER PRIMARY KEY AUTOINCREMENT`` is ``BIGSERIAL``) and in an explicit ``rowid`` on
``messages`` and ``notes``: SQLite's implicit insertion order, which the queries use to order messages stored in the
same instant, made a real column there so that one ``ORDER BY created_at, rowid`` serves both.
"""

from __future__ import annotations

from coordination import Database, Migration

COMPONENT = "inbox"
LEGACY_TABLE = "schema_migrations"
"""Where the inbox recorded its steps before the shared runner (``schema_versions``) existed."""

_V1_SQLITE = """        CREATE TABLE installations (
            id TEXT PRIMARY KEY, bot_id TEXT NOT NULL, integration_id TEXT NOT NULL, webhook_id TEXT NOT NULL,
            webhook_url TEXT, secret TEXT NOT NULL, created_at REAL NOT NULL
        );
        CREATE TABLE contacts (
            id TEXT PRIMARY KEY, name TEXT, email TEXT, phone TEXT, bp_user_id TEXT,
            visibility_tags TEXT NOT NULL DEFAULT '[]', created_at REAL NOT NULL
        );
        CREATE TABLE contact_identifiers (
            kind TEXT NOT NULL, value TEXT NOT NULL, contact_id TEXT NOT NULL REFERENCES contacts(id),
            PRIMARY KEY (kind, value)
        );
        CREATE TABLE agents (
            id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, password_hash TEXT NOT NULL,
            role TEXT NOT NULL, status TEXT NOT NULL, created_at REAL NOT NULL
        );
        CREATE TABLE agent_groups (
            agent_id TEXT NOT NULL REFERENCES agents(id), group_name TEXT NOT NULL, PRIMARY KEY (agent_id, group_name)
        );
        CREATE TABLE login_tokens (
            token_hash TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id), expires_at REAL NOT NULL
        );
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY, installation_id TEXT NOT NULL, contact_id TEXT NOT NULL REFERENCES contacts(id),
            idempotency_key TEXT NOT NULL, bp_conversation_id TEXT, state TEXT NOT NULL, close_reason TEXT,
            assigned_agent_id TEXT REFERENCES agents(id), target_agent_id TEXT REFERENCES agents(id),
            claim_statuses TEXT NOT NULL, claim_deadline REAL, rule_tags TEXT NOT NULL DEFAULT '[]',
            labels TEXT NOT NULL DEFAULT '[]', title TEXT, description TEXT, language TEXT NOT NULL,
            paused INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, updated_at REAL NOT NULL,
            UNIQUE (installation_id, idempotency_key)
        );
        CREATE INDEX sessions_state ON sessions(state, claim_deadline);
        CREATE INDEX sessions_contact ON sessions(contact_id, created_at);
        CREATE TABLE session_rejections (
            session_id TEXT NOT NULL REFERENCES sessions(id), agent_id TEXT NOT NULL REFERENCES agents(id),
            PRIMARY KEY (session_id, agent_id)
        );
        CREATE TABLE messages (
            id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), direction TEXT NOT NULL,
            author_name TEXT, agent_id TEXT, type TEXT NOT NULL, payload TEXT NOT NULL, text TEXT NOT NULL,
            bp_message_id TEXT, held INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL,
            UNIQUE (session_id, bp_message_id)
        );
        CREATE INDEX messages_session ON messages(session_id, created_at);
        CREATE TABLE notes (
            id TEXT PRIMARY KEY, contact_id TEXT NOT NULL REFERENCES contacts(id),
            agent_id TEXT NOT NULL REFERENCES agents(id), text TEXT NOT NULL, created_at REAL NOT NULL
        );
        CREATE TABLE views (
            id TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id), name TEXT NOT NULL,
            filters TEXT NOT NULL, created_at REAL NOT NULL
        );
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, installation_id TEXT NOT NULL,
            session_id TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL, delivered_at REAL, last_error TEXT, created_at REAL NOT NULL
        );
        CREATE INDEX outbox_pending ON outbox(delivered_at, session_id, id);
        """

_V1_POSTGRESQL = """        CREATE TABLE installations (
            id TEXT PRIMARY KEY, bot_id TEXT NOT NULL, integration_id TEXT NOT NULL, webhook_id TEXT NOT NULL,
            webhook_url TEXT, secret TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE contacts (
            id TEXT PRIMARY KEY, name TEXT, email TEXT, phone TEXT, bp_user_id TEXT,
            visibility_tags TEXT NOT NULL DEFAULT '[]', created_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE contact_identifiers (
            kind TEXT NOT NULL, value TEXT NOT NULL, contact_id TEXT NOT NULL REFERENCES contacts(id),
            PRIMARY KEY (kind, value)
        );
        CREATE TABLE agents (
            id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, password_hash TEXT NOT NULL,
            role TEXT NOT NULL, status TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE agent_groups (
            agent_id TEXT NOT NULL REFERENCES agents(id), group_name TEXT NOT NULL, PRIMARY KEY (agent_id, group_name)
        );
        CREATE TABLE login_tokens (
            token_hash TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id),
            expires_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY, installation_id TEXT NOT NULL, contact_id TEXT NOT NULL REFERENCES contacts(id),
            idempotency_key TEXT NOT NULL, bp_conversation_id TEXT, state TEXT NOT NULL, close_reason TEXT,
            assigned_agent_id TEXT REFERENCES agents(id), target_agent_id TEXT REFERENCES agents(id),
            claim_statuses TEXT NOT NULL, claim_deadline DOUBLE PRECISION, rule_tags TEXT NOT NULL DEFAULT '[]',
            labels TEXT NOT NULL DEFAULT '[]', title TEXT, description TEXT, language TEXT NOT NULL,
            paused INTEGER NOT NULL DEFAULT 0, created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            UNIQUE (installation_id, idempotency_key)
        );
        CREATE INDEX sessions_state ON sessions(state, claim_deadline);
        CREATE INDEX sessions_contact ON sessions(contact_id, created_at);
        CREATE TABLE session_rejections (
            session_id TEXT NOT NULL REFERENCES sessions(id), agent_id TEXT NOT NULL REFERENCES agents(id),
            PRIMARY KEY (session_id, agent_id)
        );
        CREATE TABLE messages (
            rowid BIGSERIAL NOT NULL, id TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id),
            direction TEXT NOT NULL,
            author_name TEXT, agent_id TEXT, type TEXT NOT NULL, payload TEXT NOT NULL, text TEXT NOT NULL,
            bp_message_id TEXT, held INTEGER NOT NULL DEFAULT 0, created_at DOUBLE PRECISION NOT NULL,
            UNIQUE (session_id, bp_message_id)
        );
        CREATE INDEX messages_session ON messages(session_id, created_at);
        CREATE TABLE notes (
            rowid BIGSERIAL NOT NULL, id TEXT PRIMARY KEY, contact_id TEXT NOT NULL REFERENCES contacts(id),
            agent_id TEXT NOT NULL REFERENCES agents(id), text TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE views (
            id TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id), name TEXT NOT NULL,
            filters TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE outbox (
            id BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, installation_id TEXT NOT NULL,
            session_id TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at DOUBLE PRECISION NOT NULL, delivered_at DOUBLE PRECISION, last_error TEXT,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX outbox_pending ON outbox(delivered_at, session_id, id);
        """

# Part A of issue 11 (admin): disabled agents, shared views, and templates and labels kept in the database.
# ``inbox_seeds`` records which settings were seeded from the options, so a seed runs once (see settings_store.py).
_V3_ADMIN_SQLITE = """        ALTER TABLE agents ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE views ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE inbox_templates (
            id TEXT PRIMARY KEY, shortcut TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '', text TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE inbox_labels (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
        CREATE TABLE inbox_seeds (name TEXT PRIMARY KEY, seeded_at REAL NOT NULL);
        """

_V3_ADMIN_POSTGRESQL = """        ALTER TABLE agents ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE views ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE inbox_templates (
            id TEXT PRIMARY KEY, shortcut TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '', text TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE inbox_labels (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
        CREATE TABLE inbox_seeds (name TEXT PRIMARY KEY, seeded_at DOUBLE PRECISION NOT NULL);
        """

# Part Q of issue 11: each agent's read mark per session (the newest message time they have seen).
_V4_READ_MARKS_SQLITE = """        CREATE TABLE read_marks (
            agent_id TEXT NOT NULL REFERENCES agents(id), session_id TEXT NOT NULL REFERENCES sessions(id),
            read_upto REAL NOT NULL, PRIMARY KEY (agent_id, session_id)
        );
        """
_V4_READ_MARKS_POSTGRESQL = """        CREATE TABLE read_marks (
            agent_id TEXT NOT NULL REFERENCES agents(id), session_id TEXT NOT NULL REFERENCES sessions(id),
            read_upto DOUBLE PRECISION NOT NULL, PRIMARY KEY (agent_id, session_id)
        );
        """

# Part C of issue 11: who resolved a session and when; agent messages' idempotency keys and their outbox row (the
# delivery state); outbox rows that gave up; uploaded files; and secrets every worker shares (the file-link key).
_V5_CONVERSATION_COMMON = """
        ALTER TABLE sessions ADD COLUMN closed_by_agent_id TEXT;
        ALTER TABLE sessions ADD COLUMN closed_by_name TEXT;
        ALTER TABLE messages ADD COLUMN idempotency_key TEXT;
        CREATE UNIQUE INDEX messages_idempotency ON messages(session_id, agent_id, idempotency_key);
        ALTER TABLE outbox ADD COLUMN message_id TEXT;
        CREATE INDEX outbox_message ON outbox(message_id);
        CREATE TABLE inbox_secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)
        """
_V5_CONVERSATION_SQLITE = (
    _V5_CONVERSATION_COMMON
    + """;
        ALTER TABLE sessions ADD COLUMN closed_at REAL;
        ALTER TABLE outbox ADD COLUMN gave_up_at REAL;
        UPDATE outbox SET message_id = json_extract(body, '$.messageId') WHERE message_id IS NULL;
        CREATE TABLE files (
            key TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), agent_id TEXT NOT NULL,
            idempotency_key TEXT, filename TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,
            data BLOB NOT NULL, created_at REAL NOT NULL
        )
        """
)
_V5_CONVERSATION_POSTGRESQL = (
    _V5_CONVERSATION_COMMON
    + """;
        ALTER TABLE sessions ADD COLUMN closed_at DOUBLE PRECISION;
        ALTER TABLE outbox ADD COLUMN gave_up_at DOUBLE PRECISION;
        UPDATE outbox SET message_id = (body::json ->> 'messageId') WHERE message_id IS NULL;
        CREATE TABLE files (
            key TEXT PRIMARY KEY, session_id TEXT NOT NULL REFERENCES sessions(id), agent_id TEXT NOT NULL,
            idempotency_key TEXT, filename TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,
            data BYTEA NOT NULL, created_at DOUBLE PRECISION NOT NULL
        )
        """
)

MIGRATIONS: list[Migration] = [
    Migration(1, "initial schema", sqlite=_V1_SQLITE, postgresql=_V1_POSTGRESQL),
    Migration(
        2,
        "outbox leases",
        # A worker leases the rows it delivers until lease_until, so two workers never send one row at once, and a
        # crashed worker's rows go to another when the lease runs out.
        sqlite="ALTER TABLE outbox ADD COLUMN lease_until REAL",
        postgresql="ALTER TABLE outbox ADD COLUMN lease_until DOUBLE PRECISION",
    ),
    Migration(3, "admin: disabled agents, shared views, templates and labels", _V3_ADMIN_SQLITE, _V3_ADMIN_POSTGRESQL),
    Migration(4, "read marks", sqlite=_V4_READ_MARKS_SQLITE, postgresql=_V4_READ_MARKS_POSTGRESQL),
    Migration(
        5,
        "conversation: resolved by, delivery state, files",
        sqlite=_V5_CONVERSATION_SQLITE,
        postgresql=_V5_CONVERSATION_POSTGRESQL,
    ),
]


async def adopt_legacy_versions(database: Database) -> int:
    """Record, in the shared runner's table, the steps an older inbox file applied; return how many were new.

    Idempotent (``ON CONFLICT DO NOTHING``), so a crash half-way or a second open repeats it harmlessly. Only
    embedded files can have the old table: the PostgreSQL backend is newer than it.
    """
    if database.dialect != "sqlite":
        return 0
    async with database.transaction() as db:
        found = await db.fetch_one("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (LEGACY_TABLE,))
        if found is None:
            return 0
        return await db.execute(
            "INSERT INTO schema_versions (component, version, name, applied_at) "
            f"SELECT ?, version, coalesce(name, ''), coalesce(applied_at, 0) FROM {LEGACY_TABLE} WHERE true "
            "ON CONFLICT (component, version) DO NOTHING",
            (COMPONENT,),
        )
