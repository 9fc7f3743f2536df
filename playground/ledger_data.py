"""The demo organisations Sandbox Books starts with: a café and a design studio in the UK.

Each has a chart of accounts, contacts (suppliers and a few customers, some archived), VAT
rates, tracking categories and payment methods. Record shapes follow the field names ledgerlink
already reads from accounting APIs (`Type`/`Class` on accounts, `PurchasesDefaultAccountCode`
on contacts). Ids are stable (uuid5 of organisation and name), so a re-seeded sandbox gives
the same ids.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from playground.ledger_store import LedgerStore, Org
from store.timeutil import iso

NAMESPACE = uuid.UUID("5b0c4a53-8f0e-4c8e-9d8e-1e6b3c0d2a71")

HARBOUR = Org(str(uuid.uuid5(NAMESPACE, "org/harbour-lane")), "Harbour Lane Café Ltd", "GBP")
NORTHWIND = Org(str(uuid.uuid5(NAMESPACE, "org/northwind")), "Northwind Design Studio", "GBP")
CURRENCIES = ("GBP", "EUR", "USD")  # enabled in both organisations; GBP is the base

# code, name, type, class (Xero-style: Type is the detailed type, Class the statement group)
ACCOUNTS = [
    ("090", "Business Current Account", "BANK", "ASSET"),
    ("091", "Business Savings Account", "BANK", "ASSET"),
    ("200", "Sales", "REVENUE", "REVENUE"),
    ("260", "Other Revenue", "REVENUE", "REVENUE"),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "EXPENSE"),
    ("320", "Food and Drink Purchases", "DIRECTCOSTS", "EXPENSE"),
    ("400", "Advertising and Marketing", "EXPENSE", "EXPENSE"),
    ("404", "Bank Fees", "EXPENSE", "EXPENSE"),
    ("408", "Cleaning", "EXPENSE", "EXPENSE"),
    ("412", "Consulting and Accounting", "EXPENSE", "EXPENSE"),
    ("420", "Entertainment", "EXPENSE", "EXPENSE"),
    ("425", "Postage, Freight and Courier", "EXPENSE", "EXPENSE"),
    ("429", "General Expenses", "EXPENSE", "EXPENSE"),
    ("433", "Insurance", "EXPENSE", "EXPENSE"),
    ("441", "Legal Expenses", "EXPENSE", "EXPENSE"),
    ("445", "Light, Power, Heating", "EXPENSE", "EXPENSE"),
    ("453", "Office Expenses", "EXPENSE", "EXPENSE"),
    ("461", "Printing and Stationery", "EXPENSE", "EXPENSE"),
    ("469", "Rent", "EXPENSE", "EXPENSE"),
    ("473", "Repairs and Maintenance", "EXPENSE", "EXPENSE"),
    ("485", "Subscriptions", "EXPENSE", "EXPENSE"),
    ("489", "Telephone and Internet", "EXPENSE", "EXPENSE"),
    ("493", "Travel", "EXPENSE", "EXPENSE"),
    ("710", "Office Equipment", "FIXED", "ASSET"),
    ("800", "Accounts Payable", "CURRLIAB", "LIABILITY"),
    ("820", "VAT", "CURRLIAB", "LIABILITY"),
]
ARCHIVED_ACCOUNTS = [("300", "Purchases (old)", "DIRECTCOSTS", "EXPENSE")]

TAX_RATES = [
    ("INPUT20", "20% (VAT on Expenses)", "20.00"),
    ("INPUT5", "5% (VAT on Expenses)", "5.00"),
    ("ZERORATEDINPUT", "Zero Rated Expenses", "0.00"),
    ("EXEMPTINPUT", "Exempt Expenses", "0.00"),
    ("NONE", "No VAT", "0.00"),
]

PAYMENT_METHODS = ["Bank transfer", "Company debit card", "Direct debit", "Petty cash"]

# supplier name, default purchases account
HARBOUR_SUPPLIERS = [
    ("Bean Brothers Coffee Roasters Ltd", "320"),
    ("Green Leaf Florists", "429"),
    ("Pinnacle Plumbing & Heating Ltd", "473"),
    ("Harbourside Dairy Co-operative", "320"),
    ("Miller & Sons Bakery", "320"),
    ("Coastal Fish Merchants", "320"),
    ("Fresh Fields Produce Ltd", "320"),
    ("The Tea Emporium", "320"),
    ("Brightspark Electrical Services", "473"),
    ("CleanSweep Commercial Cleaning", "408"),
    ("Office Supplies Direct Ltd", "453"),
    ("Northern Linen Services", "408"),
    ("Vine & Barrel Wine Merchants", "320"),
    ("Sparkle Glassware Ltd", "310"),
    ("Oakwood Furniture Co", "710"),
    ("Metro Waste Management", "429"),
    ("City Energy Ltd", "445"),
    ("Aqua Pure Water Ltd", "445"),
    ("Sweet Tooth Confectionery", "320"),
    ("Hilltop Farm Eggs", "320"),
    ("Golden Crust Pies", "320"),
    ("Spice Route Wholesale", "320"),
    ("Castle Insurance Brokers", "433"),
    ("Harper & Lowe Accountants", "412"),
    ("PrintWorks Studio", "461"),
    ("Blue Wave Broadband", "489"),
    ("Kitchen Kit Rentals", "473"),
    ("FreshPak Packaging Ltd", "310"),
    ("Rapid Couriers", "425"),
    ("Seaview Ice Cream Co", "320"),
    ("The Cheese Cellar", "320"),
    ("Orchard Juice Company", "320"),
    ("Summit Pest Control", "473"),
    ("Redbrick Properties Ltd", "469"),
    ("Local Radio Advertising", "400"),
    ("Harbour Lane Business Rates", "429"),
]
HARBOUR_ARCHIVED = ["Old Mill Flour Co", "Sunny Side Eggs"]
HARBOUR_CUSTOMERS = ["Seaside Weddings", "Town Council Catering", "Harbour Sailing Club"]

NORTHWIND_SUPPLIERS = [
    ("Adobe Systems Software Ireland Ltd", "485"),
    ("Pixel Perfect Print Ltd", "461"),
    ("Studio Lights Hire", "473"),
    ("Northern Rail", "493"),
    ("Copperfield Coworking", "469"),
    ("Typeface Foundry", "485"),
    ("CloudDrive Storage", "485"),
    ("Harper & Lowe Accountants", "412"),
    ("Green Leaf Florists", "429"),
    ("Office Supplies Direct Ltd", "453"),
    ("Blue Wave Broadband", "489"),
    ("Castle Insurance Brokers", "433"),
    ("Rapid Couriers", "425"),
    ("Framework Furniture", "710"),
    ("Bean Brothers Coffee Roasters Ltd", "420"),
    ("Stock Photo Library", "485"),
    ("Legal Eagles LLP", "441"),
    ("City Energy Ltd", "445"),
    ("Digital Ads Network", "400"),
    ("Paper & Ink Supplies", "461"),
]
NORTHWIND_ARCHIVED = ["Old Town Printers"]
NORTHWIND_CUSTOMERS = ["Harbour Lane Café Ltd", "Riverside Theatre", "Brightwater Brewery"]

TRACKING = {
    HARBOUR.id: {
        "Location": ["Harbour Lane", "Riverside Kiosk"],
        "Area": ["Kitchen", "Front of house", "Events"],
    },
    NORTHWIND.id: {"Project": ["Brand refresh", "Website", "Exhibition"]},
}
ORGANISATIONS = {
    HARBOUR.id: (HARBOUR, HARBOUR_SUPPLIERS, HARBOUR_ARCHIVED, HARBOUR_CUSTOMERS),
    NORTHWIND.id: (NORTHWIND, NORTHWIND_SUPPLIERS, NORTHWIND_ARCHIVED, NORTHWIND_CUSTOMERS),
}


def record_id(org_id: str, collection: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{org_id}/{collection}/{key}"))


def contact(org_id: str, name: str, *, now: datetime, **fields) -> dict:
    return {
        "ContactID": record_id(org_id, "contacts", name),
        "Name": name,
        "IsSupplier": True,
        "IsCustomer": False,
        "Status": "ACTIVE",
        "PurchasesDefaultAccountCode": None,
        "UpdatedAt": iso(now),
        **fields,
    }


def seed(store: LedgerStore, now: datetime) -> None:
    """Fill an empty sandbox with the demo organisations (nothing happens if it has data)."""
    if not store.is_empty():
        return
    for org, suppliers, archived, customers in ORGANISATIONS.values():
        store.add_org(org)
        _seed_org(store, org, suppliers, archived, customers, now)


def _seed_org(store, org: Org, suppliers, archived, customers, now: datetime) -> None:
    stamp = iso(now)
    for code, name, kind, group in ACCOUNTS + ARCHIVED_ACCOUNTS:
        account = {
            "AccountID": record_id(org.id, "accounts", code),
            "Code": code,
            "Name": name,
            "Type": kind,
            "Class": group,
            "Status": "ARCHIVED" if (code, name, kind, group) in ARCHIVED_ACCOUNTS else "ACTIVE",
            "TaxCode": "INPUT20" if group == "EXPENSE" else "NONE",
            "UpdatedAt": stamp,
        }
        store.put(org.id, "accounts", account["AccountID"], account)
    for name, account in suppliers:
        row = contact(org.id, name, now=now, PurchasesDefaultAccountCode=account)
        store.put(org.id, "contacts", row["ContactID"], row)
    for name in archived:
        row = contact(org.id, name, now=now, Status="ARCHIVED")
        store.put(org.id, "contacts", row["ContactID"], row)
    for name in customers:
        row = contact(org.id, name, now=now, IsSupplier=False, IsCustomer=True)
        store.put(org.id, "contacts", row["ContactID"], row)
    for code, name, rate in TAX_RATES:
        tax = {"Code": code, "Name": name, "Rate": rate, "Status": "ACTIVE", "UpdatedAt": stamp}
        store.put(org.id, "tax_rates", code, tax)
    for name, options in TRACKING[org.id].items():
        category_id = record_id(org.id, "tracking", name)
        category = {
            "TrackingCategoryID": category_id,
            "Name": name,
            "Status": "ACTIVE",
            "Options": [
                {
                    "TrackingOptionID": record_id(org.id, "tracking", f"{name}/{option}"),
                    "Name": option,
                    "Status": "ACTIVE",
                }
                for option in options
            ],
            "UpdatedAt": stamp,
        }
        store.put(org.id, "tracking_categories", category_id, category)
    for name in PAYMENT_METHODS:
        method_id = record_id(org.id, "payment_methods", name)
        method = {
            "PaymentMethodID": method_id,
            "Name": name,
            "Status": "ACTIVE",
            "UpdatedAt": stamp,
        }
        store.put(org.id, "payment_methods", method_id, method)
