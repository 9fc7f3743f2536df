// The playground's chat page: plays the Slack client for whoever is chosen in the user switcher.
// The server renders Block Kit to HTML and does everything Slack does; this script shows what
// it renders (polling for changes) and reports what the person does: a command typed, a button
// clicked, an option chosen, a modal submitted or closed, the Home tab opened.
"use strict";

(() => {
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
  const POLL_MS = 400;
  const state = { user: null, place: null, version: "", notices: new Set(), modalId: null };

  // -- talking to the playground server ---------------------------------------------------------

  async function ui(action, body) {
    const response = await fetch(`/playground/ui/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Playground": "1" },
      body: JSON.stringify({ user: state.user, ...body }),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    if (!response.ok && data.error) toast(data.error, "error");
    refresh();
    return data;
  }

  let polling = false;
  async function refresh() {
    if (polling) return;
    polling = true;
    try {
      const query = new URLSearchParams({ since: state.version });
      if (state.user) query.set("user", state.user);
      if (state.place) query.set("place", state.place);
      const response = await fetch(`/playground/ui/state?${query}`);
      const snapshot = await response.json();
      if (snapshot.changed) render(snapshot);
    } catch (error) {
      // the demo may be restarting; the next poll tries again
    } finally {
      polling = false;
    }
  }

  async function poll() {
    await refresh();
    setTimeout(poll, POLL_MS);
  }

  // -- rendering ---------------------------------------------------------------------------------

  function render(snapshot) {
    const placeChanged = snapshot.place !== state.shownPlace;
    state.version = snapshot.version;
    state.user = snapshot.user;
    state.place = snapshot.place;
    state.shownPlace = snapshot.place;
    renderUsers(snapshot);
    renderNav(snapshot);
    renderMain(snapshot, placeChanged);
    renderModal(snapshot.modal);
    sandboxStatus();
    for (const notice of snapshot.notices) {
      if (!state.notices.has(notice.id)) {
        state.notices.add(notice.id);
        toast(notice.text, "error");
      }
    }
  }

  function renderUsers(snapshot) {
    const select = $("#user-switch");
    if (select.options.length === 0) {
      for (const user of snapshot.users) {
        const option = new Option(`${user.name}${user.admin ? " (workspace admin)" : " (staff)"}`, user.id);
        select.add(option);
      }
    }
    select.value = snapshot.user;
  }

  function badge(count) {
    return count ? ` <span class="badge">${count}</span>` : "";
  }

  function renderNav(snapshot) {
    const [channel, dm] = snapshot.channels;
    $("#channel-list").innerHTML =
      `<li><a href="#" class="nav-item${state.place === channel.id ? " active" : ""}" ` +
      `data-place="${channel.id}"># ${channel.name}${badge(channel.unread)}</a></li>`;
    $("#nav-dm-item").innerHTML =
      `<a href="#" class="nav-item${state.place === dm.id ? " active" : ""}" ` +
      `data-place="${dm.id}">💬 ledgerlink · Messages${badge(dm.unread)}</a>`;
    $("#nav-home").classList.toggle("active", state.place === "home");
    const head = state.place === "home" ? "ledgerlink · Home"
      : state.place === dm.id ? "ledgerlink · Messages" : `# ${channel.name}`;
    $("#channel-head").textContent = head;
    $("#intro").hidden = state.place !== channel.id;
    const input = $("#composer-input");
    $("#composer").hidden = state.place === "home";
    input.placeholder = state.place === dm.id
      ? "Message ledgerlink — try /integrations status"
      : "Message #accounts — try /integrations help";
  }

  function renderMain(snapshot, placeChanged) {
    const box = $("#messages");
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    const focus = rememberFocus(box);
    const home = snapshot.place === "home";
    box.classList.toggle("home", home);
    if (placeChanged) {
      box.innerHTML = "";
      shown.clear();
    }
    if (home) {
      if (box.dataset.html !== snapshot.main) box.innerHTML = snapshot.main;
      box.dataset.html = snapshot.main;
    } else {
      delete box.dataset.html;
      renderItems(box, snapshot.items || []);
    }
    restoreFocus(box, focus);
    if (placeChanged || nearBottom) box.scrollTop = box.scrollHeight;
  }

  // Messages are replaced one by one, only when they changed, so a select someone has open in
  // one message survives another message arriving.
  const shown = new Map();

  function renderItems(box, items) {
    const keep = new Set();
    let previous = null;
    for (const item of items) {
      keep.add(item.key);
      let entry = shown.get(item.key);
      if (!entry || entry.html !== item.html) {
        const template = document.createElement("template");
        template.innerHTML = item.html;
        const node = template.content.firstElementChild;
        if (entry) entry.node.replaceWith(node);
        entry = { node, html: item.html };
        shown.set(item.key, entry);
      }
      const next = previous ? previous.nextElementSibling : box.firstElementChild;
      if (next !== entry.node) box.insertBefore(entry.node, next);
      previous = entry.node;
    }
    for (const [key, entry] of shown) {
      if (!keep.has(key)) {
        entry.node.remove();
        shown.delete(key);
      }
    }
    for (const time of $$("time[data-ts]", box)) {
      const moment = new Date(Number(time.dataset.ts) * 1000);
      time.textContent = moment.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    }
  }

  function rememberFocus(root) {
    const active = document.activeElement;
    if (!active || !root.contains(active) || !active.closest("[data-action-id]")) return null;
    const element = active.closest("[data-action-id]");
    const message = active.closest(".msg");
    return {
      ts: message ? message.dataset.ts : null,
      block: element.dataset.blockId,
      action: element.dataset.actionId,
      value: active.value,
    };
  }

  function restoreFocus(root, focus) {
    if (!focus) return;
    const scope = focus.ts ? $(`.msg[data-ts="${focus.ts}"]`, root) : root;
    if (!scope) return;
    const element = $(`[data-block-id="${focus.block}"][data-action-id="${focus.action}"]`, scope);
    if (!element) return;
    const target = element.matches("input,select,textarea") ? element : $("input", element);
    if (!target) return;
    target.value = focus.value;
    target.focus();
  }

  function renderModal(html) {
    const layer = $("#modal-layer");
    if (!html) {
      layer.hidden = true;
      layer.innerHTML = "";
      state.modalId = null;
      return;
    }
    const template = document.createElement("template");
    template.innerHTML = html;
    const incoming = template.content.firstElementChild;
    const old = $(".bk-modal", layer);
    const sameView = old && old.dataset.viewId === incoming.dataset.viewId;
    const kept = sameView ? collectValues(old, true) : null;
    layer.innerHTML = "";
    layer.append(incoming);
    layer.hidden = false;
    if (kept) restoreValues(incoming, kept);
    if (!sameView) {
      const first = $("input,select,textarea", incoming);
      if (first) first.focus();
    }
    state.modalId = incoming.dataset.viewId;
  }

  // -- modal values ------------------------------------------------------------------------------

  function collectValues(root, withText = false) {
    const values = {};
    for (const element of $$("[data-block-id][data-action-id]", root)) {
      const kind = element.dataset.kind;
      if (kind === "button") continue;
      let value;
      if (kind === "checkboxes") {
        value = $$("input:checked", element).map((input) => input.value);
      } else if (kind === "radio_buttons") {
        const checked = $("input:checked", element);
        value = checked ? checked.value : null;
      } else if (kind === "external_select") {
        const input = $("input", element);
        value = withText ? { value: input.dataset.value || "", text: input.value } : input.dataset.value || null;
      } else {
        value = element.value;
      }
      (values[element.dataset.blockId] ||= {})[element.dataset.actionId] = value;
    }
    return values;
  }

  function restoreValues(root, values) {
    for (const element of $$("[data-block-id][data-action-id]", root)) {
      const value = (values[element.dataset.blockId] || {})[element.dataset.actionId];
      if (value === undefined) continue;
      const kind = element.dataset.kind;
      if (kind === "checkboxes" || kind === "radio_buttons") {
        const chosen = new Set([].concat(value || []));
        for (const input of $$("input", element)) input.checked = chosen.has(input.value);
      } else if (kind === "external_select") {
        const input = $("input", element);
        input.value = value.text;
        input.dataset.value = value.value;
      } else if (kind !== "button") {
        element.value = value;
      }
    }
  }

  // -- where an element lives --------------------------------------------------------------------

  function whereOf(element) {
    const message = element.closest(".msg");
    if (message) return { channel: message.dataset.channel, ts: message.dataset.ts };
    const view = element.closest("[data-view-id]");
    return view ? { view_id: view.dataset.viewId } : null;
  }

  function inInput(element) {
    return Boolean(element.closest(".bk-input-block"));
  }

  function act(element, choice) {
    const where = whereOf(element);
    if (!where) return Promise.resolve();
    return ui("act", {
      where,
      block_id: element.dataset.blockId,
      action_id: element.dataset.actionId,
      choice,
    });
  }

  // -- buttons, links and confirmation dialogs ---------------------------------------------------

  function confirmFirst(template) {
    if (!template) return Promise.resolve(true);
    return new Promise((resolve) => {
      const layer = $("#dialog-layer");
      const dialog = $("#dialog");
      dialog.innerHTML = template.innerHTML;
      layer.hidden = false;
      const finish = (answer) => {
        layer.hidden = true;
        dialog.innerHTML = "";
        resolve(answer);
      };
      $("[data-confirm]", dialog).addEventListener("click", () => finish(true));
      $("[data-deny]", dialog).addEventListener("click", () => finish(false));
    });
  }

  function openLink(url) {
    if (!/\/oauth\/authorize\b/.test(url)) {
      window.open(url, "_blank", "noopener");
      return;
    }
    // A provider login: a popup, closed once it has landed back on ledgerlink's callback.
    const login = window.open(url, `ledgerlink-login-${Date.now()}`, "popup,width=640,height=780");
    if (!login) {
      window.location.assign(url);
      return;
    }
    const timer = setInterval(() => {
      if (login.closed) {
        clearInterval(timer);
        return;
      }
      let path = "";
      try {
        path = login.location.pathname;
      } catch (error) {
        return;
      }
      if (path.startsWith("/oauth/") && login.document.readyState === "complete") {
        clearInterval(timer);
        const heading = $("h1", login.document);
        toast(`${heading ? heading.textContent : login.document.title} — the login window closes by itself.`);
        setTimeout(() => login.close(), 2500);
      }
    }, 300);
  }

  async function onButton(button) {
    const template = button.nextElementSibling && button.nextElementSibling.matches("template.bk-confirm")
      ? button.nextElementSibling : null;
    if (!(await confirmFirst(template))) return;
    if (button.dataset.url) openLink(button.dataset.url);
    await act(button);
  }

  // -- external selects (options loads) ----------------------------------------------------------

  const timers = new WeakMap();

  function onSearch(input) {
    const box = input.closest(".bk-external");
    input.dataset.value = "";
    clearTimeout(timers.get(box));
    timers.set(box, setTimeout(async () => {
      const list = $(".bk-suggestions", box);
      if (input.value.length < Number(box.dataset.minQuery || 0)) {
        list.hidden = true;
        return;
      }
      const answer = await ui("suggest", {
        where: whereOf(box),
        block_id: box.dataset.blockId,
        action_id: box.dataset.actionId,
        query: input.value,
      });
      const options = (answer.options || []).concat(
        ...(answer.option_groups || []).map((group) => group.options || []));
      list.innerHTML = "";
      for (const option of options) {
        const item = document.createElement("li");
        item.textContent = option.text.text;
        item.dataset.value = option.value;
        item.tabIndex = 0;
        list.append(item);
      }
      if (!options.length) list.innerHTML = '<li class="none">No matches</li>';
      list.hidden = false;
    }, 250));
  }

  function onSuggestion(item) {
    const box = item.closest(".bk-external");
    const input = $("input", box);
    input.value = item.textContent;
    input.dataset.value = item.dataset.value;
    $(".bk-suggestions", box).hidden = true;
    if (!inInput(box)) act(box, item.dataset.value);
  }

  // -- toasts ------------------------------------------------------------------------------------

  function toast(text, kind = "info") {
    const note = document.createElement("div");
    note.className = `toast ${kind}`;
    note.textContent = text;
    note.title = "Click to dismiss";
    note.addEventListener("click", () => note.remove());
    $("#toasts").append(note);
    setTimeout(() => note.remove(), 5000);
  }

  // -- Sandbox Books panel -----------------------------------------------------------------------

  async function control(action, body) {
    const response = await fetch(`/sandbox/control/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Sandbox-Control": "1" },
      body: JSON.stringify(body || {}),
    });
    return response.json();
  }

  let statusAt = 0;
  async function sandboxStatus() {
    if (Date.now() - statusAt < 1000) return;
    statusAt = Date.now();
    try {
      const status = await (await fetch("/sandbox/control/status")).json();
      const orgSelect = $("#supplier-org");
      if (orgSelect.options.length === 0) {
        for (const org of status.orgs) orgSelect.add(new Option(org.name, org.id));
      }
      const granted = status.grants.map((grant) => grant.orgs.join(" and "));
      $("#sandbox-status").textContent = granted.length
        ? `ledgerlink has access to ${granted.join("; ")}.`
        : "ledgerlink has no access. Connect with /integrations connect sandbox.";
    } catch (error) {
      // ignored: shown again on the next tick
    }
  }

  function said(text) {
    $("#panel-result").textContent = text;
    statusAt = 0;
    sandboxStatus();
  }

  // -- wiring ------------------------------------------------------------------------------------

  document.addEventListener("click", (event) => {
    const target = event.target;
    const button = target.closest("button.bk-button[data-action-id]");
    if (button) {
      event.preventDefault();
      onButton(button);
      return;
    }
    const close = target.closest("[data-view-close]");
    if (close && state.modalId) {
      ui("close", { view_id: state.modalId });
      return;
    }
    if (target.closest("[data-view-submit]") && state.modalId) {
      const modal = $(".bk-modal");
      ui("submit", { view_id: state.modalId, values: collectValues(modal) });
      return;
    }
    const suggestion = target.closest(".bk-suggestions li[data-value]");
    if (suggestion) {
      onSuggestion(suggestion);
      return;
    }
    const nav = target.closest("[data-place]");
    if (nav) {
      event.preventDefault();
      state.place = nav.dataset.place;
      state.version = "";
      if (state.place === "home") ui("home", {});
      else refresh();
      return;
    }
    const chip = target.closest("[data-command]");
    if (chip) {
      ui("type", { channel: state.place, text: chip.dataset.command });
    }
  });

  document.addEventListener("change", (event) => {
    const target = event.target;
    const element = target.closest("[data-action-id]");
    if (!element || inInput(element) || element.closest(".bk-external")) return;
    const kind = element.dataset.kind;
    if (kind === "checkboxes") act(element, $$("input:checked", element).map((input) => input.value));
    else if (kind === "radio_buttons") act(element, target.value);
    else if (kind !== "button") act(element, element.value);
  });

  document.addEventListener("input", (event) => {
    if (event.target.matches(".bk-external input")) onSearch(event.target);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches(".bk-suggestions li")) onSuggestion(event.target);
    if (event.key === "Escape" && state.modalId && $("#dialog-layer").hidden) {
      ui("close", { view_id: state.modalId });
    }
  });

  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("#composer-input");
    const text = input.value;
    input.value = "";
    if (text.trim()) ui("type", { channel: state.place, text });
  });

  $("#user-switch").addEventListener("change", (event) => {
    state.user = event.target.value;
    state.version = "";
    if (state.place === "home") ui("home", {});
    else refresh();
  });

  $("#expire-access").addEventListener("click", async () => {
    const answer = await control("expire-access");
    said(`${answer.expired} access token(s) expired. ledgerlink refreshes them on its next call.`);
  });

  $("#revoke-access").addEventListener("click", async () => {
    const answer = await control("revoke");
    said(answer.revoked
      ? "Access revoked. ledgerlink finds out on its next call (a refresh or a submitted item)."
      : "ledgerlink had no access to revoke.");
  });

  $("#add-supplier").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#new-supplier");
    const org = $("#supplier-org");
    if (!input.value.trim() || !org.value) return;
    const answer = await control("suppliers", { org: org.value, name: input.value });
    said(answer.Contact
      ? `Added ${answer.Contact.Name} to ${org.selectedOptions[0].text}. ` +
        "/integrations refresh picks it up."
      : answer.Message);
    input.value = "";
  });

  poll();
  sandboxStatus();
  setInterval(sandboxStatus, 3000);
})();
