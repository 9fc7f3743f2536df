"""The supplier prompt offers the closest suppliers, best first, even when none is sure."""

from __future__ import annotations

from bot.matching import THRESHOLD, SupplierIndex
from handlers import ids
from handlers.item_messages import supplier_prompt
from tests.fakes import records

SUPPLIERS = [
    ("1", "Torphy-Corkery"),
    ("2", "Torphy PLC"),
    ("3", "Corkery Group"),
    ("4", "Kshlerin-Schumm"),
    ("5", "Schumm LLC"),
    ("6", "Hilpert-Gibson"),
    ("7", "Gibson Inc"),
    ("8", "Torphy-Cronin"),
    ("9", "Corkery-Torp"),
]


def item(name: str):
    return records.item(
        id=9,
        supplier_name=name,
        date="2026-11-20",
        total="4.50",
        currency="GBP",
        reference=None,
        submitted_by="U1",
    )


def buttons(message: dict) -> list[dict]:
    return next(b for b in message["blocks"] if b.get("block_id") == "prompt_main")["elements"]


def test_an_unsure_name_still_gets_three_use_buttons_best_first():
    """Below the close-match line, the three closest suppliers are Use buttons, best first."""
    index = SupplierIndex.build(SUPPLIERS)
    candidates = index.candidates("Torpy Xrkry")
    assert candidates[0].score < THRESHOLD and len(candidates) >= 3
    message = supplier_prompt(item("Torpy Xrkry"), "Acme Org", candidates)
    create, *use = buttons(message)
    assert create["action_id"] == ids.CREATE_SUPPLIER and create["style"] == "primary"
    assert [b["value"] for b in use] == [f"9|{c.supplier_id}" for c in candidates[:3]]
    assert use[0]["value"] == "9|1"
    assert all("style" not in b for b in use)


def test_more_candidates_go_to_the_select_after_the_buttons():
    """Candidates after the first three are the select's options, in order."""
    index = SupplierIndex.build([(str(i), f"Harbour Freight {chr(65 + i) * 2}x") for i in range(8)])
    candidates = index.candidates("Harbour Freight")
    message = supplier_prompt(item("Harbour Freight"), "Acme Org", candidates)
    picker = next(b for b in message["blocks"] if b.get("block_id") == "prompt_pick_9")
    select = next(e for e in picker["elements"] if e["action_id"] == ids.MORE_SUPPLIERS)
    assert [o["value"] for o in select["options"]] == [f"9|{c.supplier_id}" for c in candidates[3:]]
