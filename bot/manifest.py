"""`ledgerlink manifest`: manifest.yml with its request URLs pointed at a public base URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import yaml

MANIFEST_PATH = Path(__file__).resolve().parent.parent / "manifest.yml"


class ManifestError(ValueError):
    pass


def load_manifest(path: Path = MANIFEST_PATH) -> dict:
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ManifestError(
            f"{path} not found: run ledgerlink from its source checkout (pip install -e .)"
        ) from None


def render_manifest(base_url: str, path: Path = MANIFEST_PATH) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ManifestError(f"--url: not an http(s) URL: {base_url!r}")
    base = base_url.rstrip("/")
    manifest = load_manifest(path)
    events_url = f"{base}/slack/events"
    for command in manifest["features"]["slash_commands"]:
        command["url"] = events_url
    settings = manifest["settings"]
    settings["event_subscriptions"]["request_url"] = events_url
    settings["interactivity"]["request_url"] = events_url
    settings["interactivity"]["message_menu_options_url"] = events_url
    manifest["oauth_config"]["redirect_urls"] = [f"{base}/slack/oauth_redirect"]
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
