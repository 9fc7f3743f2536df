"""Small HTML pages for the browser after a provider login. Everything shown is escaped."""

from __future__ import annotations

from html import escape

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · ledgerlink</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;
color:#1d1c1d}}h1{{font-size:1.4rem}}.ok{{color:#007a5a}}.bad{{color:#e01e5a}}
a{{color:#1264a3}}</style></head>
<body><h1 class="{css}">{title}</h1><p>{message}</p><p>{link}</p></body></html>
"""


def result_page(*, title: str, message: str, ok: bool, team_id: str | None) -> str:
    if team_id and team_id.isalnum():
        link = f'<a href="https://app.slack.com/client/{escape(team_id)}">Go back to Slack</a>'
    else:
        link = "You can close this tab and go back to Slack."
    return TEMPLATE.format(
        title=escape(title), message=escape(message), link=link, css="ok" if ok else "bad"
    )
