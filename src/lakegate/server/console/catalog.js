// The catalog browser: databases → tables → columns with types and comments; partitions and
// files (sizes, row counts, where each came from); sample rows; schema history as diffs.

import { enc, get, post, put } from "./api.js";
import { Grid } from "./grid.js";
import { bytes, clear, count, dialog, empty, failure, field, h, table, tablist, toast, when } from "./ui.js";

function quoted(name) {
  return `"${name.replaceAll('"', '""')}"`;
}

function path(t, what = "") {
  return `/v1/tables/${enc(t.database)}/${enc(t.name)}${what}`;
}

async function lazyTab(host, load) {
  clear(host, h("p", { class: "loading" }, "Loading…"));
  try {
    clear(host, await load());
  } catch (err) {
    clear(host, failure(err));
  }
}

function columnsTab(t, ctx, reload) {
  const rows = t.columns.map((c) => ({ ...c }));
  const describe = async (column) => {
    const text = h("textarea", { name: "text", rows: 3 }, (column ? column.description : t.description) || "");
    const got = await dialog(column ? `Describe column ${column.name}` : `Describe ${t.database}.${t.name}`, field("Description", text, "Empty removes it."));
    if (!got) return;
    try {
      await put(path(t, "/description"), { text: got.text, column: column ? column.name : null });
      toast("Description saved");
      reload();
    } catch (err) {
      toast(err.message, "bad");
    }
  };
  return h(
    "div",
    {},
    h("p", { class: "description" }, t.description || h("span", { class: "muted" }, "No description."), ctx.principal.role === "admin" ? h("button", { type: "button", class: "link", onclick: () => describe(null) }, " Edit") : null),
    table(
      [
        ["Column", (c) => h("code", {}, c.name)],
        ["Type", (c) => h("span", { class: "type" }, c.type)],
        ["Comment", (c) => [c.description || "", ctx.principal.role === "admin" ? h("button", { type: "button", class: "link", "aria-label": `Describe ${c.name}`, onclick: () => describe(c) }, " ✎") : null]],
        ["Notes", (c) => [c.partition ? h("span", { class: "badge" }, "partition key") : null, c.filtered ? h("span", { class: "badge" }, "masked") : null, c.since > 1 ? h("span", { class: "muted" }, `since v${c.since}`) : null]],
      ],
      rows,
      { caption: `${rows.length} columns` },
    ),
  );
}

async function partitionsTab(t) {
  const { partitions } = await get(path(t, "/partitions"));
  return table(
    [
      ["Partition", (p) => h("code", {}, p.path || "(unpartitioned)")],
      ["Files", (p) => count(p.files), "num"],
      ["Rows", (p) => count(p.rows), "num"],
      ["Size", (p) => bytes(p.bytes), "num"],
    ],
    partitions,
    { caption: `${partitions.length} partitions`, empty: "No partitions." },
  );
}

async function filesTab(t) {
  const { files } = await get(path(t, "/files"));
  return table(
    [
      ["File", (f) => h("code", { title: f.key }, f.key.split("/").pop())],
      ["Partition", (f) => f.partition || "–"],
      ["Rows", (f) => count(f.rows), "num"],
      ["Size", (f) => bytes(f.size), "num"],
      ["Format", (f) => f.format],
      ["Came from", (f) => (f.origin === "delivered" ? h("code", {}, f.delivered) : h("span", { class: "muted" }, "found by the crawler"))],
      ["Landed", (f) => when(f.landed_at || f.registered_at)],
      ["Dataset rule", (f) => f.dataset || "–"],
      ["Read as", (f) => (f.decisions && f.decisions.length ? h("ul", { class: "decisions" }, ...f.decisions.map((d) => h("li", {}, d))) : "as delivered")],
    ],
    files,
    { caption: `${files.length} files, newest first`, empty: "No files." },
  );
}

async function sampleTab(t) {
  const result = await post("/v1/query", { sql: `SELECT * FROM ${quoted(t.database)}.${quoted(t.name)} LIMIT 100`, limit: 100 });
  if (!result.rows.length) return empty("The table has no rows.");
  const grid = new Grid({ columns: result.columns, rows: result.rows, label: `Sample rows of ${t.database}.${t.name}` });
  requestAnimationFrame(() => grid.render());
  return h("div", { class: "grid-panel small" }, grid.el);
}

async function historyTab(t) {
  const { versions } = await get(path(t, "/versions"));
  return h(
    "ol",
    { class: "versions", reversed: true },
    versions
      .slice()
      .reverse()
      .map((v) =>
        h(
          "li",
          {},
          h("h3", {}, `Version ${v.version}`, h("small", {}, ` ${when(v.created_at)}`)),
          v.cause ? h("p", { class: "muted" }, v.cause) : null,
          h(
            "pre",
            { class: "diff" },
            (v.changes.length ? v.changes : ["(no visible change)"]).map((line) => h("span", { class: line[0] === "+" ? "add" : line[0] === "-" ? "del" : line[0] === "~" ? "chg" : "" }, `${line}\n`)),
          ),
        ),
      ),
  );
}

function showTable(host, t, ctx, reload) {
  const tabs = [
    ["Columns", async () => columnsTab(t, ctx, reload)],
    ["Partitions", () => partitionsTab(t)],
    ["Files & lineage", () => filesTab(t)],
    ["Sample rows", () => sampleTab(t)],
    ["Schema history", () => historyTab(t)],
  ];
  const panel = h("div", { role: "tabpanel", class: "tab-panel", tabindex: "0" });
  const buttons = tabs.map(([name, load], i) =>
    h(
      "button",
      {
        type: "button",
        role: "tab",
        "aria-selected": i === 0 ? "true" : "false",
        onclick: (e) => {
          for (const b of buttons) b.setAttribute("aria-selected", "false");
          e.currentTarget.setAttribute("aria-selected", "true");
          lazyTab(panel, load);
        },
      },
      name,
    ),
  );
  clear(
    host,
    h(
      "header",
      { class: "table-head" },
      h("h2", {}, `${t.database}.${t.name}`),
      h("p", { class: "muted" }, `${count(t.rows)} rows · ${count(t.files)} files · ${bytes(t.bytes)} · schema v${t.schema_version}`),
      h(
        "button",
        {
          type: "button",
          onclick: () => ctx.openSql(`SELECT *\nFROM ${quoted(t.database)}.${quoted(t.name)}\nLIMIT 100`),
        },
        "Query in the workspace",
      ),
    ),
    tablist("Table details", buttons),
    panel,
  );
  lazyTab(panel, tabs[0][1]);
}

export async function render(root, ctx, args) {
  const tree = h("nav", { class: "tree", "aria-label": "Databases and tables" });
  const detail = h("section", { class: "detail", "aria-live": "polite" });
  const filter = h("input", { type: "search", placeholder: "Filter tables", "aria-label": "Filter tables" });
  clear(root, h("div", { class: "catalog" }, h("div", { class: "tree-col" }, filter, tree), detail));
  let tables;
  try {
    ({ tables } = await get("/v1/tables"));
  } catch (err) {
    clear(tree, failure(err));
    return;
  }
  if (!tables.length) {
    clear(tree, empty("No tables you may read yet.", ctx.principal.role === "admin" ? "Files dropped into landing/ become tables." : "Ask an admin for a grant."));
    clear(detail);
    return;
  }
  const draw = () => {
    const needle = filter.value.trim().toLowerCase();
    const byDb = new Map();
    for (const t of tables) {
      if (needle && !`${t.database}.${t.name}`.toLowerCase().includes(needle)) continue;
      if (!byDb.has(t.database)) byDb.set(t.database, []);
      byDb.get(t.database).push(t);
    }
    clear(
      tree,
      byDb.size
        ? h(
            "ul",
            { role: "tree" },
            [...byDb.entries()].map(([db, list]) =>
              h(
                "li",
                { role: "treeitem", "aria-expanded": "true" },
                h("span", { class: "db" }, db),
                h(
                  "ul",
                  { role: "group" },
                  list.map((t) =>
                    h(
                      "li",
                      { role: "none" },
                      h(
                        "a",
                        {
                          href: `#/catalog/${enc(t.database)}/${enc(t.name)}`,
                          role: "treeitem",
                          class: args[0] === t.database && args[1] === t.name ? "current" : "",
                          "aria-current": args[0] === t.database && args[1] === t.name ? "page" : null,
                        },
                        t.name,
                        h("small", {}, ` ${count(t.rows)} rows`),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          )
        : empty("No table matches."),
    );
  };
  filter.addEventListener("input", draw);
  draw();
  const chosen = tables.find((t) => t.database === args[0] && t.name === args[1]);
  if (chosen) {
    const reload = async () => {
      const fresh = await get(path(chosen));
      Object.assign(chosen, fresh);
      showTable(detail, chosen, ctx, reload);
    };
    showTable(detail, chosen, ctx, reload);
  } else if (args[0]) {
    clear(detail, failure({ code: "catalog.unknown_table", message: `unknown table ${args[0]}.${args[1] || ""}` }));
  } else {
    clear(detail, empty("Pick a table on the left.", `${tables.length} tables in ${new Set(tables.map((t) => t.database)).size} databases.`));
  }
}
