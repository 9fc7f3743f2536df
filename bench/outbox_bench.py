"""4. Slack's pacing: bursts of supplier prompts through the outbox.

`ledgerlink serve` (a subprocess) talks to the test suite's fake Slack in paced mode
(tests/fakes/slack.py: `chat.postMessage` three at once per channel, then one a second, and
HTTP 429 with Retry-After beyond that; `chat.update` and `views.publish` by their tier). The
workspace is connected to a fake Xero (bench/fakes.py, through the real OAuth flow) and synced;
then all items of a scenario are sent to `POST /api/items` at once, each a supplier the books
don't know, so each needs a prompt:

* 200 items for one channel;
* 200 items spread over 20 channels (10 each).

Measured from the first request: the time until every item is visible in Slack (its own
prompt, or a line with an Open button in a grouped message that Slack accepted), the messages
posted and updated, the 429s Slack answered, calls made before a Retry-After had passed, and
items never shown or shown twice. The baseline is ledgerlink's old path measured in the same
run against the same paced fake: one `chat.postMessage` per prompt, sent as the requests come
(16 at a time), retried by slack_sdk's rate-limit handler at most twice.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from slack_sdk.errors import SlackApiError

from bench.report import Figure, Section, figure
from bench.slack_bench import SMOKE as SLACK_SMOKE
from bench.slack_bench import Workspace, fire, wait_until
from bot.slack_clients import web_client
from tests.conftest import STAFF
from tests.fakes.slack import FakeSlack

TITLE = "4. Slack's pacing: bursts of prompts through the outbox (paced fake Slack)"
S = "outbox"
OWN_PROMPT = re.compile(r"Item #(\d+) ·")


@dataclass(frozen=True)
class Scenario:
    name: str
    items: int
    channels: int


FULL = (Scenario("200 items, one channel", 200, 1), Scenario("200 items, 20 channels", 200, 20))
SMOKE = (Scenario("12 items, one channel", 12, 1), Scenario("12 items, 4 channels", 12, 4))


def _blocks(call) -> list[dict]:
    blocks = call.args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def shown(slack: FakeSlack) -> dict[int, int]:
    """Item id -> how many accepted posts showed it (own prompt, or grouped message)."""
    counts: dict[int, int] = {}
    with slack._lock:
        calls = [c for c in slack.calls if c.refused is None]
    for call in calls:
        if call.method != "chat.postMessage":
            continue
        found = set()
        if "is not a supplier" in call.args.get("text", ""):
            found |= {
                int(i) for i in OWN_PROMPT.findall(json.dumps(_blocks(call), ensure_ascii=False))
            }
        found |= {
            int(b["accessory"]["value"])
            for b in _blocks(call)
            if b.get("accessory", {}).get("action_id") == "item_open_prompt"
        }
        for item_id in found:
            counts[item_id] = counts.get(item_id, 0) + 1
    return counts


def listed(slack: FakeSlack) -> set[int]:
    """Items visible in any accepted post or update (a grouped message grows by updates)."""
    seen = set(shown(slack))
    with slack._lock:
        updates = [c for c in slack.calls if c.refused is None and c.method == "chat.update"]
    for call in updates:
        seen |= {
            int(b["accessory"]["value"])
            for b in _blocks(call)
            if b.get("accessory", {}).get("action_id") == "item_open_prompt"
        }
    return seen


def outbox_burst(ws: Workspace, scenario: Scenario, tag: str, timeout: float) -> dict:
    requests = []
    for i in range(scenario.items):
        body = json.dumps(
            {
                "supplier": f"{tag} Unlisted Supplier {i:03d}",
                "date": "2026-11-20",
                "total": f"{10 + i}.25",
                "reference": f"{tag}-{i}",
                "channel": f"C{tag[:3].upper()}{i % scenario.channels:03d}",
                "submitted_by": STAFF,
            }
        ).encode()
        headers = {"Authorization": f"Bearer {ws.token}", "Content-Type": "application/json"}
        requests.append(("/api/items", body, headers))
    with ws.slack._lock:
        before = len(ws.slack.calls)
        limited_before = ws.slack.rate_limited
        early_before = ws.slack.early_retries
    started = time.monotonic()
    replies = fire(ws.server.url, requests)
    ids = {json.loads(r.body)["id"] for r in replies if r.status == 201}
    try:
        wait_until(lambda: ids <= listed(ws.slack), "every item visible", timeout)
        seconds = time.monotonic() - started
    except RuntimeError:
        seconds = float("nan")
    time.sleep(1.0)  # anything sent twice would arrive now
    with ws.slack._lock:
        calls = [c for c in ws.slack.calls[before:] if c.refused is None]
        limited = ws.slack.rate_limited - limited_before
        early = ws.slack.early_retries - early_before
    counts = shown(ws.slack)
    return {
        "seconds": seconds,
        "stored": len(ids),
        "posted": sum(c.method == "chat.postMessage" for c in calls),
        "updated": sum(c.method == "chat.update" for c in calls),
        "limited": limited,
        "early": early,
        "lost": len(ids - listed(ws.slack)),
        "twice": sum(counts.get(i, 0) > 1 for i in ids),
    }


def direct_baseline(scenario: Scenario, timeout: float) -> dict:
    """The old path: each prompt posted at once by the request that caused it."""
    slack = FakeSlack(paced=True).start()
    client = web_client(slack.api_url, slack.bot_token)
    failed = 0

    def post(i: int) -> bool:
        try:
            client.chat_postMessage(
                channel=f"CBASE{i % scenario.channels:03d}", text=f"Item #{i} · prompt"
            )
            return True
        except SlackApiError:
            return False

    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(post, range(scenario.items)))
        failed = results.count(False)
        seconds = time.monotonic() - started
    finally:
        limited = slack.rate_limited
        slack.stop()
    return {"seconds": seconds if seconds < timeout else float("nan"), "lost": failed,
            "limited": limited}  # fmt: skip


def run(*, smoke: bool = False) -> Section:
    scenarios = SMOKE if smoke else FULL
    timeout = 60.0 if smoke else 300.0
    section = Section(S, TITLE)
    figures: list[Figure] = []
    for n, scenario in enumerate(scenarios):
        with tempfile.TemporaryDirectory(prefix="ledgerlink-bench-outbox-") as tmp:
            ws = Workspace(SLACK_SMOKE, Path(tmp))
            try:
                ws.slack.pace()
                result = outbox_burst(ws, scenario, f"b{n}", timeout)
                errors = ws.errors_logged()
            finally:
                ws.close()
        base = direct_baseline(scenario, timeout)
        label = scenario.name
        figures += [
            figure(
                S,
                f"{label}: time until every item is visible",
                [result["seconds"]],
                "s",
                versus=f"old path (each prompt posted by its request): {base['seconds']:.1f} s, "
                f"{base['lost']} of {scenario.items} never posted",
            ),
            figure(
                S,
                f"{label}: messages posted / updated",
                [result["posted"]],
                versus=f"{result['updated']} updates (grouped messages kept up to date)",
            ),
            figure(
                S,
                f"{label}: 429s received",
                [result["limited"]],
                versus=f"old path: {base['limited']}",
            ),
            figure(
                S,
                f"{label}: calls before Retry-After had passed",
                [result["early"]],
                target="= 0",
                met=result["early"] == 0,
            ),
            figure(
                S,
                f"{label}: items lost (never visible)",
                [result["lost"]],
                target="= 0",
                met=result["lost"] == 0 and result["stored"] == scenario.items,
                versus=f"old path: {base['lost']}",
            ),
            figure(
                S,
                f"{label}: items shown twice",
                [result["twice"]],
                target="= 0",
                met=result["twice"] == 0 and errors == 0,
            ),
        ]
    section.figures = figures
    section.notes = [
        "Visible: Slack accepted a post or update showing the item: its own supplier prompt "
        "(up to 5 waiting for a channel), or a line with an Open button in the channel's "
        "grouped message (more than 5 waiting; up to 40 items a message).",
        "The fake paces like Slack: per channel 3 posts at once then 1 a second; 429 with "
        "Retry-After (whole seconds) beyond that. One run per scenario (each takes a fresh "
        "`ledgerlink serve`, connection and sync); the old path is measured right after it.",
    ]
    return section
