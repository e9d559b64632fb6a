"""The inbox schema, as an ordered list of migrations. Never edit a released step: append a new one."""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "initial schema",
        """
        CREATE TABLE installations (
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
        """,
    ),
]
