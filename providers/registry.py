"""Build the providers the configuration enables, keyed by their short name."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from providers.base import Provider, ProviderConfig
from providers.clock import Clock
from providers.http import Timing
from providers.quickbooks import DEFAULT_REVOKE_URL, DEFAULT_TOKEN_URL, QuickBooksProvider
from providers.xero import XeroProvider


def build_providers(
    config: ProviderConfig,
    *,
    http_client: httpx.Client,
    clock: Clock,
    timing: Timing | None = None,
) -> dict[str, Provider]:
    """Xero when XERO_CLIENT_ID/SECRET are set, QuickBooks when QBO_CLIENT_ID/SECRET are. (The
    playground's Sandbox Books provider is not the product's: `ledgerlink demo` adds it through
    `Runtime.open(extra_providers=...)`, and no setting in the environment turns it on.)

    Every provider sends its traffic through `http_client`; `timing` (sleep, clock for rate
    limits, jitter) is for tests.
    """
    providers: dict[str, Provider] = {}
    if config.xero is not None:
        providers["xero"] = XeroProvider(
            config, http_client=http_client, clock=clock, timing=timing
        )
    if config.quickbooks is not None:
        providers["quickbooks"] = QuickBooksProvider(
            config,
            http_client=http_client,
            clock=clock,
            timing=timing,
            revoke_url=quickbooks_revoke_url(config),
        )
    return providers


def quickbooks_revoke_url(config: ProviderConfig) -> str:
    """Intuit's revocation endpoint, or the same path on the host QBO_TOKEN_URL points at
    when it was changed (a proxy or a test double serving Intuit's whole OAuth surface)."""
    if config.qbo_token_url == DEFAULT_TOKEN_URL:
        return DEFAULT_REVOKE_URL
    parts = urlsplit(config.qbo_token_url)
    return f"{parts.scheme}://{parts.netloc}/v2/oauth2/tokens/revoke"
