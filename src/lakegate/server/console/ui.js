// Small DOM helpers shared by the console's pages. No framework: elements are built with h().

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function count(n) {
  return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-US");
}

export function ms(n) {
  if (n === null || n === undefined) return "–";
  if (n < 1000) return `${Math.round(n)} ms`;
  if (n < 60000) return `${(n / 1000).toFixed(n < 10000 ? 2 : 1)} s`;
  return `${Number((n / 60000).toFixed(1))} min`;
}

export function when(seconds) {
  if (!seconds) return "–";
  const d = new Date(seconds * 1000);
  const pad = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}`;
}

export function ago(seconds) {
  const s = Math.max(0, Date.now() / 1000 - seconds);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return when(seconds);
}

// A message where a list or a result would be: nothing yet, or what went wrong.
export function empty(text, hint) {
  return h("div", { class: "empty", role: "status" }, h("p", {}, text), hint ? h("p", { class: "hint" }, hint) : null);
}

export function failure(error) {
  const e = error && error.code ? error : { code: "console.error", message: String(error && error.message ? error.message : error) };
  return h(
    "div",
    { class: "error", role: "alert" },
    h("strong", {}, e.message),
    h("span", { class: "code" }, ` [${e.code}]`),
    e.hint ? h("p", { class: "hint" }, e.hint) : null,
  );
}

let toastTimer = 0;
export function toast(text, kind = "info") {
  const box = document.getElementById("toast");
  box.className = `toast ${kind}`;
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.hidden = true;
  }, 4000);
}

// A table of records: columns as [title, (row) => content, class?].
export function table(columns, rows, { caption, empty: none = "Nothing here yet.", rowProps } = {}) {
  if (!rows.length) return empty(none);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "list" },
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map(([title, , cls]) => h("th", { scope: "col", class: cls }, title)))),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h(
            "tr",
            rowProps ? rowProps(row) : {},
            columns.map(([, cell, cls]) => h("td", { class: cls }, cell(row))),
          ),
        ),
      ),
    ),
  );
}

// A modal dialog; resolves with the form's values, or null when dismissed.
export function dialog(title, body, { submit = "Save", danger = false } = {}) {
  return new Promise((resolve) => {
    const form = h(
      "form",
      { method: "dialog", class: "dialog-form" },
      h("h2", {}, title),
      body,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", value: "cancel", onclick: () => close(null) }, "Cancel"),
        h("button", { type: "submit", class: danger ? "danger" : "primary" }, submit),
      ),
    );
    const box = h("dialog", { "aria-label": title }, form);
    function close(value) {
      box.close();
      box.remove();
      resolve(value);
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      close(Object.fromEntries(new FormData(form).entries()));
    });
    box.addEventListener("cancel", () => close(null));
    document.body.append(box);
    box.showModal();
  });
}

export function field(label, input, help) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input, help ? h("small", {}, help) : null);
}

export function download(url) {
  const a = h("a", { href: url, download: "" });
  document.body.append(a);
  a.click();
  a.remove();
}

// Tabs as the ARIA pattern has them: ←/→ (and Home/End) move between the tabs of a tablist and
// select the one reached; only the selected tab is in the Tab order.
export function tablist(label, tabs) {
  const list = h("div", { role: "tablist", class: "tabs", "aria-label": label }, tabs);
  const sync = () => {
    for (const tab of tabs) tab.tabIndex = tab.getAttribute("aria-selected") === "true" ? 0 : -1;
  };
  list.addEventListener("click", () => setTimeout(sync));
  list.addEventListener("keydown", (event) => {
    const at = tabs.indexOf(document.activeElement);
    if (at < 0) return;
    const moves = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = tabs[(moves[event.key] + tabs.length) % tabs.length];
    next.focus();
    next.click();
  });
  sync();
  return list;
}
