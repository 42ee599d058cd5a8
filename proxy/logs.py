"""Log set-up (plain text or JSON lines) and the access line: one per v1 call.

The access line (`proxy.access`) names the table's action, the resolved zone, the client's
user agent, the v4 calls made, the v1 result and the time taken; the credential only as its
12-character fingerprint. Never a key, an e-mail, a query string or a body: the user agent is
the one piece of client text, and it is cut short, made printable, and stripped of anything
shaped like an e-mail address or a token.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from proxy.metrics import v4_route
from proxy.settings import Settings

if TYPE_CHECKING:
    from proxy.engine import Reply

access_log = logging.getLogger("proxy.access")

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_AGENT = 120

# The attribute of a log record that holds an access line's fields (`extra=`).
FIELDS = "access"

# What a client might have put in its user agent that must not reach a log: an e-mail
# address, or a long run of token characters (a Global API key is 37 hex, a v4 token 40).
_SECRET_SHAPES = re.compile(r"[\w.+%-]+(?:@|%40)[\w-]+\.[\w.-]+|[A-Za-z0-9_-]{32,}")
_agents: dict[str, str] = {}
_MAX_AGENTS = 1000


def setup_logging(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """Log to standard error, in `settings.log_format`; returns the handler it installed."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else
                         logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    # httpx logs every request with its full URL at INFO; proxy.upstream says what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # python-multipart warns about every malformed body a client sends; the client gets a v1
    # error saying so, and the access line records it.
    logging.getLogger("python_multipart").setLevel(logging.ERROR)
    return handler


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and an access line's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                entry.setdefault(key, value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, separators=(",", ":"))


def client_agent(raw: str | None) -> str:
    """The client's user agent as logs and the migration report show it."""
    if not raw:
        return "-"
    shown = _agents.get(raw)
    if shown is None:
        # Clients send the same few agents again and again; remember them, within bounds.
        if len(_agents) >= _MAX_AGENTS:
            _agents.clear()
        shown = _agents[raw] = clean(_SECRET_SHAPES.sub("[masked]", raw[:MAX_AGENT]), " ")
    return shown


def clean(text: str, space: str = "_") -> str:
    """Client text made safe for one log line: short, printable ASCII, no line breaks."""
    text = text[:MAX_AGENT].encode("ascii", "replace").decode("ascii")
    return "".join(
        ch if ch.isprintable() and not ch.isspace() else space if ch == " " else "_"
        for ch in text
    )


def access(reply: Reply, agent: str, seconds: float) -> None:
    """The access line of one v1 call."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {
        "action": reply.known_action or ("unknown" if reply.action else "-"),
        "zone": clean(reply.zone or "-"),
        "cred": reply.credential or "-",
        "v4_calls": len(reply.v4_calls),
        "result": reply.outcome,
        "status": reply.status,
        "ms": round(seconds * 1000, 1),
    }
    text = " ".join(f"{key}={value}" for key, value in fields.items())
    fields["ua"] = agent
    fields["v4"] = [
        f"{call.method} {v4_route(call.path)} {call.status or '-'}" for call in reply.v4_calls
    ]
    # The agent may hold spaces: last on the plain line, so the line still splits cleanly.
    access_log.info("%s ua=%s", text, agent.replace(" ", "_"), extra={FIELDS: fields})
