"""Block Kit to HTML, the way the Slack client draws it. Pure functions, no I/O.

Covers what ledgerlink sends: `section` (mrkdwn or plain text, fields, an accessory),
`context`, `header`, `divider`, `actions` and `input` blocks; `button` (primary / danger
styles, link buttons with `url`, `confirm` dialogs), `static_select` (options and option
groups), `external_select`, `conversations_select` / `channels_select` / `users_select`,
`checkboxes`, `radio_buttons`, `datepicker`, `plain_text_input` (single and multi line);
modals (title, submit, close, field errors) and the App Home tab. Anything else is drawn as a
visible "unsupported" box, so a gap never goes unnoticed.

mrkdwn: `*bold*`, `_italic_`, `~strike~`, `` `code` ``, ``` ```blocks``` ```, `> quotes`,
links `<url|text>`, mentions `<@U…>` `<#C…>` `<!here>`, `:emoji:` and Slack's `&lt;` `&gt;`
`&amp;` escapes. Everything from the app is HTML-escaped; only http(s) and mailto links become
links.

Interactive elements carry `data-block-id` / `data-action-id` (and `data-kind`) so the page can
say which element was used; the server looks the element up itself.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

EMOJI = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "warning": "⚠️",
    "exclamation": "❗",
    "red_circle": "🔴",
    "large_green_circle": "🟢",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "calendar": "📆",
    "bell": "🔔",
    "wastebasket": "🗑️",
    "arrows_counterclockwise": "🔄",
    "x": "❌",
    "information_source": "\u2139\ufe0f",
    "lock": "🔒",
    "key": "🔑",
    "link": "🔗",
    "tada": "🎉",
    "wave": "👋",
    "receipt": "🧾",
    "moneybag": "💰",
    "bulb": "💡",
    "eyes": "👀",
    "memo": "📝",
    "outbox_tray": "📤",
    "pause_button": "⏸️",
}


@dataclass(frozen=True)
class Context:
    """Names for mentions, and the choices of conversation and user selects."""

    users: Mapping[str, str] = field(default_factory=dict)  # id -> real name
    channels: Mapping[str, str] = field(default_factory=dict)  # id -> name (no #)


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def attrs(**values) -> str:
    """HTML attributes (data_block_id -> data-block-id); None and False leave one out, True
    writes a bare boolean attribute."""
    parts = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        name = name.rstrip("_").replace("_", "-")
        parts.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    return "".join(parts)


# -- text ------------------------------------------------------------------------------------

_CODE_BLOCK = re.compile(r"```(.+?)```", re.S)
_CODE = re.compile(r"`([^`\n]+)`")
_CONTROL = re.compile(r"<([^<>\n]+)>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])")
_EMOJI = re.compile(r":([a-z0-9_+\-]+):")
_SLOT = re.compile(r"\x00(\d+)\x00")


def slack_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def emoji(escaped: str) -> str:
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), escaped)


def mrkdwn(text: str, ctx: Context) -> str:
    slots: list[str] = []

    def keep(fragment: str) -> str:
        slots.append(fragment)
        return f"\x00{len(slots) - 1}\x00"

    text = text.replace("\x00", "")
    text = _CODE_BLOCK.sub(lambda m: keep(f"<pre>{_literal(m.group(1))}</pre>"), text)
    text = _CODE.sub(lambda m: keep(f"<code>{_literal(m.group(1))}</code>"), text)
    text = _CONTROL.sub(lambda m: keep(_control(m.group(1), ctx)), text)
    text = html.escape(slack_unescape(text), quote=False)
    for pattern, tag in ((_BOLD, "b"), (_ITALIC, "i"), (_STRIKE, "s")):
        text = pattern.sub(rf"<{tag}>\1</{tag}>", text)
    text = emoji(text)
    lines = []
    for line in text.split("\n"):
        if line.startswith("&gt;"):
            line = f"<blockquote>{line[4:].lstrip()}</blockquote>"
        lines.append(line)
    text = "<br>".join(lines).replace("</blockquote><br>", "</blockquote>")
    while _SLOT.search(text):
        text = _SLOT.sub(lambda m: slots[int(m.group(1))], text)
    return text


def _literal(text: str) -> str:
    return html.escape(slack_unescape(text), quote=False)


def _control(inner: str, ctx: Context) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        name = label or ctx.users.get(target[1:], target[1:])
        return f'<span class="bk-mention">@{esc(name)}</span>'
    if target.startswith("#"):
        name = label or ctx.channels.get(target[1:], target[1:])
        return f'<span class="bk-mention">#{esc(name)}</span>'
    if target.startswith("!"):
        word = target[1:].split("^")[0]
        if word == "date":
            return esc(slack_unescape(label))
        if word.startswith("subteam"):
            return f'<span class="bk-mention">{esc(label or "@group")}</span>'
        return f'<span class="bk-mention">@{esc(word)}</span>'
    url = slack_unescape(target)
    shown = esc(slack_unescape(label or target))
    if re.match(r"^(https?://|mailto:)", url, re.I):
        return f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{shown}</a>'
    return shown


def text_object(obj: Mapping | None, ctx: Context) -> str:
    """A Block Kit text object (plain_text or mrkdwn) as HTML."""
    if not obj:
        return ""
    if obj.get("type") == "mrkdwn":
        return mrkdwn(str(obj.get("text", "")), ctx)
    escaped = html.escape(str(obj.get("text", "")), quote=False)
    return emoji(escaped) if obj.get("emoji", True) else escaped


def plain(obj: Mapping | None) -> str:
    return str((obj or {}).get("text", ""))


# -- elements ----------------------------------------------------------------------------------


def element(el: Mapping, ctx: Context, block_id: str, *, surface: str) -> str:
    kind = el.get("type")
    ids = {"data_block_id": block_id, "data_action_id": el.get("action_id"), "data_kind": kind}
    renderer = _ELEMENTS.get(kind)
    if renderer is None:
        return unsupported(f"element {kind}")
    return renderer(el, ctx, ids, surface)


def _button(el, ctx, ids, surface) -> str:
    classes = "bk-button" + (
        f" bk-{el['style']}" if el.get("style") in ("primary", "danger") else ""
    )
    confirm = _confirm(el["confirm"], ctx) if el.get("confirm") else ""
    return (
        f'<button type="button" class="{classes}"{attrs(**ids, data_url=el.get("url"))}>'
        f"{text_object(el.get('text'), ctx)}{' ↗' if el.get('url') else ''}</button>{confirm}"
    )


def _confirm(dialog: Mapping, ctx: Context) -> str:
    style = "bk-danger" if dialog.get("style") == "danger" else "bk-primary"
    deny = text_object(dialog.get("deny"), ctx) or "Cancel"
    yes = text_object(dialog.get("confirm"), ctx) or "Yes"
    return (
        '<template class="bk-confirm">'
        f'<div class="bk-dialog-title">{text_object(dialog.get("title"), ctx)}</div>'
        f'<div class="bk-dialog-text">{text_object(dialog.get("text"), ctx)}</div>'
        '<div class="bk-dialog-buttons">'
        f'<button type="button" class="bk-button" data-deny>{deny}</button>'
        f'<button type="button" class="bk-button {style}" data-confirm>{yes}</button>'
        "</div></template>"
    )


def _options(options, selected: str | None) -> str:
    return "".join(
        f"<option{attrs(value=o.get('value'), selected=o.get('value') == selected)}>"
        f"{esc(plain(o.get('text')))}</option>"
        for o in options
    )


def _static_select(el, ctx, ids, surface) -> str:
    selected = (el.get("initial_option") or {}).get("value")
    body = f'<option value="" disabled{" selected" if selected is None else ""}>'
    body += f"{esc(plain(el.get('placeholder')) or 'Select an item')}</option>"
    if el.get("option_groups"):
        for group in el["option_groups"]:
            body += f'<optgroup label="{esc(plain(group.get("label")))}">'
            body += _options(group.get("options") or [], selected) + "</optgroup>"
    else:
        body += _options(el.get("options") or [], selected)
    return f'<select class="bk-select"{attrs(**ids)}>{body}</select>'


def _external_select(el, ctx, ids, surface) -> str:
    initial = el.get("initial_option") or {}
    box = attrs(**ids, data_min_query=el.get("min_query_length", 3))
    field = attrs(
        placeholder=plain(el.get("placeholder")) or "Search",
        value=plain(initial.get("text")) or None,
        data_value=initial.get("value"),
    )
    return (
        f'<div class="bk-external"{box}>'
        f'<input type="search" autocomplete="off" class="bk-input"{field}>'
        '<ul class="bk-suggestions" hidden></ul></div>'
    )


INITIAL = {
    "conversations_select": "initial_conversation",
    "channels_select": "initial_channel",
    "users_select": "initial_user",
}


def _pick_select(choices, prefix: str):
    """A select of the workspace's channels or people; `choices(ctx)` gives id -> name."""

    def render(el, ctx, ids, surface) -> str:
        names = choices(ctx)
        selected = el.get(INITIAL[el["type"]])
        body = f'<option value=""{" selected" if not selected else ""}>'
        body += f"{esc(plain(el.get('placeholder')) or 'Select')}</option>"
        body += "".join(
            f"<option{attrs(value=cid, selected=cid == selected)}>{esc(prefix + name)}</option>"
            for cid, name in names.items()
        )
        return f'<select class="bk-select"{attrs(**ids)}>{body}</select>'

    return render


def _choices(el, ctx, ids, surface) -> str:
    radio = el["type"] == "radio_buttons"
    if radio:
        chosen = {(el.get("initial_option") or {}).get("value")}
    else:
        chosen = {o.get("value") for o in el.get("initial_options") or []}
    items = []
    for option in el.get("options") or []:
        box = "radio" if radio else "checkbox"
        description = option.get("description")
        value = option.get("value")
        items.append(
            f'<label class="bk-choice"><input type="{box}"'
            f"{attrs(name=ids['data_action_id'], value=value, checked=value in chosen)}>"
            f"<span>{text_object(option.get('text'), ctx)}"
            + (f"<small>{text_object(description, ctx)}</small>" if description else "")
            + "</span></label>"
        )
    return f'<div class="bk-choices"{attrs(**ids)}>{"".join(items)}</div>'


def _datepicker(el, ctx, ids, surface) -> str:
    return f'<input type="date" class="bk-input"{attrs(**ids, value=el.get("initial_date"))}>'


def _text_input(el, ctx, ids, surface) -> str:
    common = attrs(
        **ids,
        placeholder=plain(el.get("placeholder")) or None,
        maxlength=el.get("max_length"),
        minlength=el.get("min_length"),
    )
    value = el.get("initial_value") or ""
    if el.get("multiline"):
        return f'<textarea class="bk-input" rows="3"{common}>{esc(value)}</textarea>'
    return f'<input type="text" class="bk-input"{common}{attrs(value=value or None)}>'


def _image(el, ctx, ids, surface) -> str:
    return f'<span class="bk-image" title="{esc(el.get("alt_text", ""))}">🖼</span>'


_ELEMENTS = {
    "button": _button,
    "static_select": _static_select,
    "external_select": _external_select,
    "conversations_select": _pick_select(lambda ctx: ctx.channels, "#"),
    "channels_select": _pick_select(lambda ctx: ctx.channels, "#"),
    "users_select": _pick_select(lambda ctx: ctx.users, ""),
    "checkboxes": _choices,
    "radio_buttons": _choices,
    "datepicker": _datepicker,
    "plain_text_input": _text_input,
    "image": _image,
}


# -- blocks ----------------------------------------------------------------------------------


def unsupported(what: str) -> str:
    return f'<div class="bk-unsupported">Unsupported Block Kit: {esc(what)}</div>'


def block(b: Mapping, ctx: Context, *, surface: str, errors: Mapping[str, str]) -> str:
    kind = b.get("type")
    block_id = b.get("block_id") or ""
    head = f'<div class="bk-block bk-{esc(kind)}"{attrs(data_block_id=block_id or None)}>'
    if kind == "section":
        inner = f'<div class="bk-text">{text_object(b.get("text"), ctx)}</div>'
        if b.get("fields"):
            inner += (
                '<div class="bk-fields">'
                + "".join(f"<div>{text_object(f, ctx)}</div>" for f in b["fields"])
                + "</div>"
            )
        if b.get("accessory"):
            inner = (
                f'<div class="bk-section-main">{inner}</div><div class="bk-accessory">'
                f"{element(b['accessory'], ctx, block_id, surface=surface)}</div>"
            )
        return head + inner + "</div>"
    if kind == "context":
        parts = [
            element(e, ctx, block_id, surface=surface)
            if e.get("type") == "image"
            else f"<span>{text_object(e, ctx)}</span>"
            for e in b.get("elements") or []
        ]
        return head + "".join(parts) + "</div>"
    if kind == "header":
        return head + f"<h3>{text_object(b.get('text'), ctx)}</h3></div>"
    if kind == "divider":
        return head + "<hr></div>"
    if kind == "actions":
        parts = [element(e, ctx, block_id, surface=surface) for e in b.get("elements") or []]
        return head + "".join(parts) + "</div>"
    if kind == "input":
        error = errors.get(block_id)
        optional = ' <span class="bk-optional">(optional)</span>' if b.get("optional") else ""
        hint = (
            f'<div class="bk-hint">{text_object(b.get("hint"), ctx)}</div>' if b.get("hint") else ""
        )
        shown = f'<div class="bk-error" role="alert">{esc(error)}</div>' if error else ""
        label = f'<label class="bk-label">{text_object(b.get("label"), ctx)}{optional}</label>'
        body = element(b.get("element") or {}, ctx, block_id, surface=surface)
        invalid = " bk-invalid" if error else ""
        return (
            f'<div class="bk-block bk-input-block{invalid}"{attrs(data_block_id=block_id)}'
            f"{attrs(data_optional='1' if b.get('optional') else None)}>"
            f"{label}{body}{shown}{hint}</div>"
        )
    return unsupported(f"block {kind}")


def blocks(items, ctx: Context, *, surface: str = "message", errors=None) -> str:
    return "".join(block(b, ctx, surface=surface, errors=errors or {}) for b in items or [])


# -- messages and views ------------------------------------------------------------------------


def message_body(text: str, items, ctx: Context) -> str:
    """A message's content: its blocks, or its text when it has none (as Slack does)."""
    if items:
        return blocks(items, ctx)
    return f'<div class="bk-block bk-section"><div class="bk-text">{mrkdwn(text, ctx)}</div></div>'


def clock_time(ts: str) -> str:
    moment = datetime.fromtimestamp(float(ts), UTC)
    return moment.strftime("%H:%M")


def modal(view: Mapping, ctx: Context, *, view_id: str, errors=None, depth: int = 1) -> str:
    errors = errors or {}
    general = errors.get("_")
    body = blocks(view.get("blocks"), ctx, surface="modal", errors=errors)
    submit = view.get("submit")
    close = text_object(view.get("close"), ctx) or "Cancel"
    foot = '<div class="bk-modal-foot">'
    foot += f'<button type="button" class="bk-button" data-view-close>{close}</button>'
    if submit:
        foot += (
            f'<button type="button" class="bk-button bk-primary" data-view-submit>'
            f"{text_object(submit, ctx)}</button>"
        )
    foot += "</div>"
    back = '<span class="bk-modal-back">&lsaquo;</span>' if depth > 1 else ""
    return (
        f'<div class="bk-modal" role="dialog" aria-modal="true"{attrs(data_view_id=view_id)}>'
        f'<div class="bk-modal-head">{back}<span class="bk-modal-title">'
        f"{text_object(view.get('title'), ctx)}</span>"
        '<button type="button" class="bk-modal-x" data-view-close aria-label="Close">'
        "&times;</button></div>"
        + (
            f'<div class="bk-error bk-modal-error" role="alert">{esc(general)}</div>'
            if general
            else ""
        )
        + f'<div class="bk-modal-body">{body}</div>{foot}</div>'
    )


def home(view: Mapping | None, ctx: Context, *, view_id: str | None) -> str:
    if not view:
        return '<div class="bk-home bk-empty">The Home tab is loading…</div>'
    return (
        f'<div class="bk-home"{attrs(data_view_id=view_id)}>'
        f"{blocks(view.get('blocks'), ctx, surface='home')}</div>"
    )
