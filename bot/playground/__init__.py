"""The offline playground behind `ledgerlink demo`: what a new user would otherwise need accounts
for, served locally by the demo process and reached by ledgerlink only over HTTP.

* `ledger`, `ledger_oauth`, `ledger_api`, `ledger_store`, `ledger_data`, `ledger_pages`:
  **Sandbox Books**, a small accounting system with its own SQLite file beside the demo
  database. Two demo organisations, an OAuth 2.0 authorization server (consent page, PKCE,
  single-use codes, rotating refresh tokens, revocation) and a JSON API with incremental
  cursors. ledgerlink talks to it through `providers.sandbox`.
* `slack_workspace`: the Slack Web API the app calls (SLACK_API_URL points at it) and the
  workspace state behind it; `slack_client`: what a person does in Slack, signed and posted to
  the app's `/slack/events` as Slack does; `blockkit`: the Block Kit the app sends, as HTML.
* `ui`: the chat page at `/playground` (HTML, JS and CSS in `static/`) and its JSON calls.

Nothing here is imported by `ledgerlink serve`.
"""
