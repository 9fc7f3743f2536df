"""Docs stay honest: manifest valid, every subcommand in help, manifest hint and README."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot.app import BOT_SCOPES
from bot.config import ENV_VARIABLES
from bot.manifest import ManifestError, render_manifest
from handlers.grammar import SUBCOMMANDS
from handlers.messages import help_message

ROOT = Path(__file__).resolve().parents[2]
# Slack's manifest schema (MIT), vendored from shared/specs so the suite runs anywhere.
SCHEMA = ROOT / "tests" / "specs" / "slack" / "manifest.schema.1.0.0.json"


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_slacks_schema():
    """manifest.yml, and the one printed for a real URL, validate against Slack's schema."""
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(manifest())
    jsonschema.Draft7Validator(schema).validate(
        yaml.safe_load(render_manifest("https://books.example.org"))
    )


def test_rendered_manifest_points_every_url_at_the_base():
    """`ledgerlink manifest --url` rewrites every request URL and the redirect URL."""
    rendered = yaml.safe_load(render_manifest("https://books.example.org/"))
    events = "https://books.example.org/slack/events"
    assert rendered["features"]["slash_commands"][0]["url"] == events
    assert rendered["settings"]["event_subscriptions"]["request_url"] == events
    assert rendered["settings"]["interactivity"]["request_url"] == events
    assert rendered["settings"]["interactivity"]["message_menu_options_url"] == events
    assert rendered["oauth_config"]["redirect_urls"] == [
        "https://books.example.org/slack/oauth_redirect"
    ]
    with pytest.raises(ManifestError):
        render_manifest("books.example.org")


def test_manifest_scopes_match_the_app():
    """The manifest asks for exactly the bot scopes the install flow requests."""
    assert tuple(manifest()["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_every_subcommand_is_documented(name):
    """Each subcommand appears in the help text, the manifest usage hint and the README."""
    assert f"/integrations {name}" in json.dumps(help_message())
    assert name in manifest()["features"]["slash_commands"][0]["usage_hint"]
    assert f"/integrations {name}" in (ROOT / "README.md").read_text()


def test_readme_documents_every_scope_and_variable():
    """README explains each bot scope and lists every environment variable DESIGN.md pins."""
    readme = (ROOT / "README.md").read_text()
    for scope in BOT_SCOPES:
        assert f"`{scope}`" in readme
    for variable in ENV_VARIABLES:
        assert f"`{variable}`" in readme, variable


def test_env_variable_list_matches_what_config_reads():
    """ENV_VARIABLES (documented in README) is exactly the set Config.from_env reads."""
    import re

    source = (ROOT / "bot" / "config.py").read_text()
    body = source.split("def from_env", 1)[1].split("def multi_workspace", 1)[0]
    read = set(re.findall(r'"([A-Z][A-Z_]+)"', body))
    assert read == set(ENV_VARIABLES)
