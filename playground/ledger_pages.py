"""Sandbox Books' web pages: the OAuth consent page and a read-only view of the ledger.

Pure functions from data to HTML; everything shown is escaped. No scripts: the pages work under
ledgerlink's default Content-Security-Policy (inline styles only).
"""

from __future__ import annotations

from html import escape

STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f6f8;
color:#1f2933}
header{background:#0b6e4f;color:#fff;padding:.8rem 1.4rem;font-weight:600;font-size:1.05rem}
header span{font-weight:400;opacity:.85;margin-left:.5rem;font-size:.9rem}
main{max-width:46rem;margin:1.6rem auto;padding:0 1rem}
.card{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.12);
padding:1.3rem 1.5rem;margin-bottom:1.2rem}
h1{font-size:1.3rem;margin:.2rem 0 .8rem}h2{font-size:1.05rem;margin:.2rem 0 .6rem}
ul.scopes{padding-left:1.2rem}label.org{display:block;padding:.55rem .7rem;border:1px solid #d5dbe1;
border-radius:8px;margin:.4rem 0;cursor:pointer}label.org small{display:block;color:#616e7c}
.actions{display:flex;gap:.7rem;margin-top:1.1rem}
button{font:inherit;font-weight:600;border-radius:8px;padding:.55rem 1.2rem;cursor:pointer;
border:1px solid #9aa5b1;background:#fff}button.primary{background:#0b6e4f;color:#fff;
border-color:#0b6e4f}.muted{color:#616e7c;font-size:.9rem}.error{color:#b42318;font-weight:600}
table{width:100%;border-collapse:collapse}td,th{text-align:left;padding:.35rem .4rem;
border-bottom:1px solid #e4e7eb;font-size:.92rem}th{color:#52606d;font-weight:600}
.tag{font-size:.75rem;border-radius:4px;padding:.05rem .4rem;background:#e4e7eb}
a{color:#0b6e4f}
"""


def page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Sandbox Books</title><style>{STYLE}</style></head><body>"
        "<header>Sandbox Books<span>the demo accounting software of ledgerlink's playground"
        f"</span></header><main>{body}</main></body></html>"
    )


def consent_page(
    *, consent_id: str, client_name: str, redirect_host: str, scopes: list[str], orgs, error=None
) -> str:
    scope_words = {
        "offline_access": "Stay connected when you're not signed in (refresh tokens)",
        "ledger.read": "Read your chart of accounts, contacts, tax rates and tracking categories",
        "ledger.write": "Create contacts and bills",
    }
    items = "".join(f"<li>{escape(scope_words.get(s, s))}</li>" for s in scopes)
    choices = "".join(
        f'<label class="org"><input type="checkbox" name="org" value="{escape(org.id)}" checked>'
        f" <b>{escape(org.name)}</b><small>Base currency {escape(org.currency)}</small></label>"
        for org in orgs
    )
    problem = f'<p class="error">{escape(error)}</p>' if error else ""
    body = f"""
<div class="card">
<h1>{escape(client_name)} wants to connect to Sandbox Books</h1>
<p class="muted">Signed in as <b>Alex Admin</b> (a demo login: no password needed). After you
allow access you will be sent back to <b>{escape(redirect_host)}</b>.</p>
<h2>It will be able to</h2><ul class="scopes">{items}</ul>
<form method="post" action="authorize">
<input type="hidden" name="consent" value="{escape(consent_id)}">
<h2>Organisations to share</h2>{problem}{choices}
<div class="actions">
<button class="primary" type="submit" name="decision" value="allow" id="allow">Allow access</button>
<button type="submit" name="decision" value="deny" id="deny">Cancel</button>
</div></form></div>"""
    return page("Allow access", body)


def error_page(title: str, message: str) -> str:
    return page(
        title,
        f'<div class="card"><h1 class="error">{escape(title)}</h1><p>{escape(message)}</p></div>',
    )


def home_page(root: str, orgs, grants, org_names: dict[str, str]) -> str:
    org_links = "".join(
        f'<li><a href="{root}/orgs/{escape(org.id)}">{escape(org.name)}</a></li>' for org in orgs
    )
    rows = "".join(
        f"<tr><td>{escape(', '.join(org_names.get(o, o) for o in grant.orgs))}</td>"
        f"<td>{escape(grant.created_at)}</td><td>"
        + ("<span class='tag'>revoked</span>" if grant.revoked_at else "active")
        + "</td></tr>"
        for grant in grants
    )
    body = f"""
<div class="card"><h1>Organisations</h1><ul>{org_links}</ul></div>
<div class="card"><h2>Apps with access</h2>
<table><tr><th>Organisations</th><th>Granted</th><th>State</th></tr>{rows}</table>
<p class="muted">Revoke access or expire tokens from the playground's Sandbox Books panel.</p>
</div>"""
    return page("Sandbox Books", body)


def org_page(root: str, org, suppliers: list[dict], bills: list[dict]) -> str:
    supplier_rows = "".join(
        f"<tr><td>{escape(c['Name'])}</td><td>{escape(c.get('PurchasesDefaultAccountCode') or '')}"
        f"</td><td>{'' if c['Status'] == 'ACTIVE' else '<span class=tag>archived</span>'}</td></tr>"
        for c in suppliers
    )
    bills_url = f"{root}/orgs/{escape(org.id)}/bills"
    bill_rows = "".join(
        f"<tr><td><a href='{bills_url}/{escape(b['BillID'])}'>{escape(b['Number'])}</a></td>"
        f"<td>{escape(b['ContactName'])}</td><td>{escape(b['Date'])}</td>"
        f"<td>{escape(b['Currency'])} {escape(b['Total'])}</td><td>{escape(b['Status'])}</td></tr>"
        for b in reversed(bills)
    )
    body = f"""
<p><a href="{root}">← All organisations</a></p>
<div class="card"><h1>{escape(org.name)}</h1><h2>Bills ({len(bills)})</h2>
<table><tr><th>Number</th><th>Supplier</th><th>Date</th><th>Total</th><th>Status</th></tr>
{bill_rows or "<tr><td colspan=5 class=muted>No bills yet.</td></tr>"}</table></div>
<div class="card"><h2>Suppliers ({len(suppliers)})</h2>
<table><tr><th>Name</th><th>Default account</th><th></th></tr>{supplier_rows}</table></div>"""
    return page(org.name, body)


def bill_page(root: str, org, bill: dict) -> str:
    lines = "".join(
        f"<tr><td>{escape(line.get('Description') or '')}</td><td>{escape(line['AccountCode'])}"
        f"</td><td>{escape(line.get('TaxCode') or '')}</td><td>{escape(line['Amount'])}</td></tr>"
        for line in bill["Lines"]
    )
    body = f"""
<p><a href="{root}/orgs/{escape(org.id)}">← {escape(org.name)}</a></p>
<div class="card"><h1>Bill {escape(bill["Number"])}
<span class="tag">{escape(bill["Status"])}</span></h1>
<p><b>{escape(bill["ContactName"])}</b> · {escape(bill["Date"])}
{" · ref " + escape(bill["Reference"]) if bill.get("Reference") else ""}</p>
<table><tr><th>Description</th><th>Account</th><th>Tax</th><th>Amount</th></tr>{lines}</table>
<p>Total <b>{escape(bill["Currency"])} {escape(bill["Total"])}</b>
(VAT {escape(bill["TotalTax"])}, amounts {escape(bill["LineAmountTypes"].lower())} of tax)</p>
</div>"""
    return page(f"Bill {bill['Number']}", body)
