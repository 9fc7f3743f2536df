"""build_providers builds only what the configuration enables."""

from __future__ import annotations

import httpx

from bot.config import Config
from providers.quickbooks import QuickBooksProvider
from providers.registry import build_providers
from providers.xero import XeroProvider


def test_both_providers_when_both_are_configured(config, clock):
    """With Xero and QuickBooks credentials, both providers are built under their short names."""
    with httpx.Client() as client:
        providers = build_providers(config, http_client=client, clock=clock)
    assert set(providers) == {"xero", "quickbooks"}
    assert isinstance(providers["xero"], XeroProvider)
    assert isinstance(providers["quickbooks"], QuickBooksProvider)
    for name, provider in providers.items():
        assert provider.name == name
        assert provider.display_name in ("Xero", "QuickBooks")


def test_only_configured_providers_are_built(config, clock):
    """Without credentials a provider is left out; with none, the mapping is empty."""
    with httpx.Client() as client:
        assert set(
            build_providers(config.replace(quickbooks=None), http_client=client, clock=clock)
        ) == {"xero"}
        assert build_providers(Config(), http_client=client, clock=clock) == {}


def test_capabilities_describe_each_provider(config, clock):
    """Xero bills can be drafts and use PKCE; QuickBooks bills are always open."""
    with httpx.Client() as client:
        providers = build_providers(config, http_client=client, clock=clock)
    xero, qbo = providers["xero"].capabilities, providers["quickbooks"].capabilities
    assert xero.bill_statuses == ("DRAFT", "SUBMITTED", "AUTHORISED") and xero.pkce
    assert xero.refresh_token_idle_days == 60
    assert qbo.bill_statuses == ("AUTHORISED",) and not qbo.pkce
    assert qbo.refresh_token_idle_days == 100


def test_quickbooks_revocation_follows_a_changed_token_host():
    """Intuit's revoke URL by default; the token host's when QBO_TOKEN_URL points elsewhere."""
    from providers.registry import quickbooks_revoke_url

    assert quickbooks_revoke_url(Config()) == (
        "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
    )
    moved = Config(qbo_token_url="http://127.0.0.1:9/oauth2/v1/tokens/bearer")
    assert quickbooks_revoke_url(moved) == "http://127.0.0.1:9/v2/oauth2/tokens/revoke"
