"""The offline playground behind `ledgerlink demo`: what a new user would otherwise need accounts
for, served locally by the demo process and reached by ledgerlink only over HTTP.

* `ledger`, `ledger_oauth`, `ledger_api`, `ledger_store`, `ledger_data`, `ledger_pages`:
  **Sandbox Books**, a small accounting system with its own SQLite file beside the demo
  database. Two demo organisations, an OAuth 2.0 authorization server (consent page, PKCE,
  single-use codes, rotating refresh tokens, revocation) and a JSON API with incremental
  cursors. ledgerlink talks to it through `playground.sandbox_provider`.
* `slack_workspace`: the Slack Web API the app calls (SLACK_API_URL points at it) and the
  workspace state behind it; `slack_client`: what a person does in Slack, signed and posted to
  the app's `/slack/events` as Slack does; `blockkit`: the Block Kit the app sends, as HTML.
* `ui`: the chat page at `/playground` (HTML, JS and CSS in `static/`) and its JSON calls.

* `sandbox_provider`: ledgerlink's provider for Sandbox Books, added by the demo alone.
* `demo`: `ledgerlink demo`, which builds ledgerlink through its public builders
  (`bot.runtime.Runtime`, hence `bot.app.create_app`) and serves all of the above beside it.

A package beside the product: nothing in `bot/`, `handlers/`, `providers/` or `store/` imports
it; the CLI imports `playground.demo` inside the `demo` command only, so `ledgerlink serve`
never loads it.
"""
