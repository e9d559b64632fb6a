"""Team settings kept in the inbox database: reply templates and session labels, edited by admins.

The ``templates`` and ``labels`` options only seed them, once: :meth:`SettingsStore.seed` records each seed in
``inbox_seeds`` in the same transaction as the rows it writes, so a crash leaves either both or neither, and of two
workers starting at once only the one whose marker insert counted writes the rows. With ``templates`` unset, a fresh
inbox ships :data:`EXAMPLE_TEMPLATES`.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from .config import InboxOptions, Template
from .errors import Conflict, InvalidInput, NotFound
from .store import Connection, Store, new_id

EXAMPLE_TEMPLATES = (
    Template(shortcut="hello", title="Greeting", text="Hi {{contactName}}, I am {{agentName}}. How can I help?"),
    Template(shortcut="wait", title="One moment", text="Thanks for waiting, {{contactName}}. I am looking into it."),
    Template(shortcut="bye", title="Goodbye", text="Glad I could help, {{contactName}}. Have a good day!"),
)
MAX_SHORTCUT, MAX_TITLE, MAX_TEXT, MAX_LABEL, MAX_LABELS = 40, 120, 5000, 64, 200


class StoredTemplate(BaseModel):
    """A reply template as stored: ``{{contactName}}`` and ``{{agentName}}`` are filled in when used."""

    model_config = ConfigDict(frozen=True)

    id: str
    shortcut: str
    title: str
    text: str


def _clean(value: str, field: str, limit: int, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, "must not be empty")
    if len(value) > limit:
        raise InvalidInput(field, f"must be at most {limit} characters")
    return value


def _clean_shortcut(shortcut: str) -> str:
    shortcut = _clean(shortcut, "shortcut", MAX_SHORTCUT).lstrip("/")
    if not shortcut or any(c.isspace() for c in shortcut):
        raise InvalidInput("shortcut", "must be one word (no spaces)")
    return shortcut


def clean_labels(labels: list[str]) -> list[str]:
    """Labels stripped, without empty ones or repeats, in the order given. Raises :class:`InvalidInput`."""
    seen: dict[str, None] = {}
    for index, label in enumerate(labels):
        name = _clean(label, f"labels.{index}", MAX_LABEL, required=False)
        if name:
            seen.setdefault(name, None)
    if len(seen) > MAX_LABELS:
        raise InvalidInput("labels", f"at most {MAX_LABELS} labels")
    return list(seen)


async def list_templates(db: Connection) -> list[StoredTemplate]:
    """Every template, by shortcut."""
    rows = await db.fetch_all("SELECT id, shortcut, title, text FROM inbox_templates ORDER BY shortcut")
    return [StoredTemplate(id=r["id"], shortcut=r["shortcut"], title=r["title"], text=r["text"]) for r in rows]


async def list_labels(db: Connection) -> list[str]:
    """The labels agents may put on sessions, in the admin's order."""
    rows = await db.fetch_all("SELECT name FROM inbox_labels ORDER BY position, name")
    return [str(r["name"]) for r in rows]


async def _first_seed(db: Connection, name: str, now: float) -> bool:
    """Record the seed ``name``; ``True`` only for the one transaction that recorded it."""
    inserted = await db.execute(
        "INSERT INTO inbox_seeds (name, seeded_at) VALUES (?, ?) ON CONFLICT DO NOTHING", (name, now)
    )
    return inserted == 1


async def _insert_labels(db: Connection, labels: list[str]) -> None:
    for position, name in enumerate(labels):
        await db.execute("INSERT INTO inbox_labels (name, position) VALUES (?, ?)", (name, position))


class SettingsStore:
    """Reads and admin writes of templates and labels."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def seed(self, options: InboxOptions) -> None:
        """Seed templates and labels from the options, once per database (see the module's docstring)."""
        given = options.templates if "templates" in options.model_fields_set else list(EXAMPLE_TEMPLATES)
        async with self._store.transaction() as db:
            if await _first_seed(db, "templates", self._clock()) and not await list_templates(db):
                for template in {t.shortcut: t for t in given}.values():
                    await self._insert_template(db, template.shortcut, template.title or "", template.text)
            if await _first_seed(db, "labels", self._clock()) and not await list_labels(db):
                await _insert_labels(db, clean_labels(options.labels))

    async def templates(self) -> list[StoredTemplate]:
        """Every template, by shortcut."""
        async with self._store.read() as db:
            return await list_templates(db)

    async def labels(self) -> list[str]:
        """The labels, in order."""
        async with self._store.read() as db:
            return await list_labels(db)

    async def create_template(self, shortcut: str, title: str, text: str) -> tuple[StoredTemplate, bool]:
        """Add a template; return it and whether it is new.

        Retry-safe by its unique shortcut: a repeat of the same request (same shortcut, title and text) answers the
        template the first one made, and writes nothing; another template with that shortcut is a :class:`Conflict`."""
        shortcut, title = _clean_shortcut(shortcut), _clean(title, "title", MAX_TITLE, required=False)
        text = _clean(text, "text", MAX_TEXT)
        async with self._store.transaction() as db:
            existing = await self._by_shortcut(db, shortcut)
            if existing is not None and (existing.title, existing.text) == (title, text):
                return existing, False
            if existing is not None:
                raise Conflict(f"shortcut: /{shortcut} exists already")
            return await self._insert_template(db, shortcut, title, text), True

    async def update_template(self, template_id: str, shortcut: str, title: str, text: str) -> StoredTemplate:
        """Replace a template's fields. Retry-safe: the values are absolute, so a repeat writes the same row."""
        shortcut, title = _clean_shortcut(shortcut), _clean(title, "title", MAX_TITLE, required=False)
        text = _clean(text, "text", MAX_TEXT)
        async with self._store.transaction() as db:
            other = await self._by_shortcut(db, shortcut)
            if other is not None and other.id != template_id:
                raise Conflict(f"shortcut: /{shortcut} exists already")
            changed = await db.execute(
                "UPDATE inbox_templates SET shortcut = ?, title = ?, text = ? WHERE id = ?",
                (shortcut, title, text, template_id),
            )
        if not changed:
            raise NotFound(f"no template {template_id}")
        return StoredTemplate(id=template_id, shortcut=shortcut, title=title, text=text)

    async def delete_template(self, template_id: str) -> None:
        """Delete a template. Retry-safe: deleting a deleted template changes nothing and succeeds."""
        async with self._store.transaction() as db:
            await db.execute("DELETE FROM inbox_templates WHERE id = ?", (template_id,))

    async def set_labels(self, labels: list[str]) -> list[str]:
        """Replace the labels. Retry-safe: the list is absolute; sessions keep labels already put on them."""
        cleaned = clean_labels(labels)
        async with self._store.transaction() as db:
            await db.execute("DELETE FROM inbox_labels WHERE true")
            await _insert_labels(db, cleaned)
        return cleaned

    async def _by_shortcut(self, db: Connection, shortcut: str) -> StoredTemplate | None:
        return next((t for t in await list_templates(db) if t.shortcut == shortcut), None)

    async def _insert_template(self, db: Connection, shortcut: str, title: str, text: str) -> StoredTemplate:
        template_id = new_id("tpl")
        # The unique shortcut, checked by the row count: of two requests adding one shortcut at once, one adds it.
        inserted = await db.execute(
            "INSERT INTO inbox_templates (id, shortcut, title, text, created_at) VALUES (?,?,?,?,?) "
            "ON CONFLICT (shortcut) DO NOTHING",
            (template_id, shortcut, title, text, self._clock()),
        )
        if not inserted:
            raise Conflict(f"shortcut: /{shortcut} exists already")
        return StoredTemplate(id=template_id, shortcut=shortcut, title=title, text=text)
