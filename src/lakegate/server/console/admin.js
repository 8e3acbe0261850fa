// Admin pages: principals, tokens (created and shown once, revoked), workgroups, grants and the
// nodes sharing the catalog.

import { enc, get, patch, post, put, del } from "./api.js";
import { ago, bytes, clear, dialog, failure, field, h, ms, table, toast, when } from "./ui.js";

const opt = (values, chosen) => values.map((v) => h("option", { value: v, selected: v === chosen }, v || "(none)"));
const blankToNull = (v) => (v === undefined || v === null || String(v).trim() === "" ? null : String(v).trim());

async function attempt(action, done) {
  try {
    const result = await action();
    if (done) toast(done);
    return result;
  } catch (err) {
    toast(`${err.message}${err.hint ? ` — ${err.hint}` : ""}`, "bad");
    return null;
  }
}

async function showToken(token, name) {
  const box = h("input", { type: "text", readonly: true, value: token, class: "secret", "aria-label": "The new token" });
  const copy = h("button", { type: "button", onclick: () => navigator.clipboard?.writeText(token).then(() => toast("Copied")) }, "Copy");
  await dialog(
    `New token for ${name}`,
    h("div", {}, h("p", {}, h("strong", {}, "This is the only time the token is shown."), " Copy it now; lakegate keeps only a verifier."), h("div", { class: "secret-row" }, box, copy)),
    { submit: "Done" },
  );
}

async function principalsSection(host, workgroups, refresh) {
  const { principals } = await get("/v1/principals");
  const create = async () => {
    const got = await dialog(
      "New principal",
      h(
        "div",
        {},
        field("Name", h("input", { name: "name", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9_.@\\-]{0,62}", autocomplete: "off" })),
        field("Role", h("select", { name: "role" }, opt(["analyst", "provider", "admin"], "analyst"))),
        field("Kind", h("select", { name: "kind" }, opt(["user", "service"], "user"))),
        field("Workgroup", h("select", { name: "workgroup" }, opt(["", ...workgroups.map((w) => w.name)], ""))),
        field("Landing prefix", h("input", { name: "landing_prefix", placeholder: "acme/in" }), "Providers only: where they may upload."),
      ),
      { submit: "Create" },
    );
    if (!got) return;
    const made = await attempt(() => post("/v1/principals", { ...got, workgroup: blankToNull(got.workgroup), landing_prefix: blankToNull(got.landing_prefix) }), `Created ${got.name}`);
    if (made) refresh();
  };
  const edit = async (p) => {
    const got = await dialog(
      `Change ${p.name}`,
      h(
        "div",
        {},
        field("Role", h("select", { name: "role" }, opt(["analyst", "provider", "admin"], p.role))),
        field("Workgroup", h("select", { name: "workgroup" }, opt(["", ...workgroups.map((w) => w.name)], p.workgroup || ""))),
        field("Landing prefix", h("input", { name: "landing_prefix", value: p.landing_prefix || "" })),
      ),
    );
    if (!got) return;
    const done = await attempt(() => patch(`/v1/principals/${enc(p.name)}`, { role: got.role, workgroup: blankToNull(got.workgroup), landing_prefix: blankToNull(got.landing_prefix) }), `Changed ${p.name}`);
    if (done) refresh();
  };
  const toggle = async (p) => {
    const disable = p.state !== "disabled";
    const done = await attempt(() => patch(`/v1/principals/${enc(p.name)}`, { disabled: disable }), `${p.name} ${disable ? "disabled" : "enabled"}`);
    if (done) refresh();
  };
  const token = async (p) => {
    const got = await dialog(
      `New token for ${p.name}`,
      h("div", {}, field("Expires after", h("input", { name: "expires", placeholder: "90d, 12h — empty: until revoked" })), field("Note", h("input", { name: "note", placeholder: "what it is for" }))),
      { submit: "Create token" },
    );
    if (!got) return;
    const made = await attempt(() => post(`/v1/principals/${enc(p.name)}/tokens`, { expires: blankToNull(got.expires), note: got.note || "" }));
    if (made) {
      await showToken(made.token, p.name);
      refresh();
    }
  };
  clear(
    host,
    h("div", { class: "section-head" }, h("h2", {}, "Principals"), h("button", { type: "button", class: "primary", onclick: create }, "New principal")),
    table(
      [
        ["Name", (p) => h("strong", {}, p.name)],
        ["Role", (p) => p.role],
        ["Kind", (p) => p.kind],
        ["Workgroup", (p) => p.workgroup || "–"],
        ["Landing prefix", (p) => p.landing_prefix || "–"],
        ["State", (p) => h("span", { class: `badge state-${p.state}` }, p.state)],
        [
          "",
          (p) =>
            h(
              "div",
              { class: "row-actions" },
              h("button", { type: "button", onclick: () => token(p) }, "New token"),
              h("button", { type: "button", onclick: () => edit(p) }, "Change"),
              h("button", { type: "button", class: p.state === "disabled" ? "" : "danger", onclick: () => toggle(p) }, p.state === "disabled" ? "Enable" : "Disable"),
            ),
        ],
      ],
      principals,
      { caption: `${principals.length} principals` },
    ),
  );
}

async function tokensSection(host, refresh) {
  const { tokens } = await get("/v1/tokens");
  const revoke = async (t) => {
    const sure = await dialog(`Revoke token ${t.id} of ${t.principal}?`, h("p", {}, "Programs and sessions using it stop working at once."), { submit: "Revoke", danger: true });
    if (!sure) return;
    if (await attempt(() => post(`/v1/tokens/${enc(t.id)}/revoke`, {}), `Revoked ${t.id}`)) refresh();
  };
  clear(
    host,
    h("h2", {}, "Tokens"),
    table(
      [
        ["Id", (t) => h("code", {}, t.id)],
        ["Principal", (t) => t.principal],
        ["Note", (t) => t.note || "–"],
        ["Created", (t) => when(t.created_at)],
        ["Expires", (t) => (t.expires_at ? when(t.expires_at) : "never")],
        ["Last used", (t) => (t.last_used_at ? ago(t.last_used_at) : "never")],
        ["State", (t) => h("span", { class: `badge state-${t.state}` }, t.state)],
        ["", (t) => (t.state === "active" ? h("button", { type: "button", class: "danger", onclick: () => revoke(t), "aria-label": `Revoke token ${t.id}` }, "Revoke") : "")],
      ],
      tokens,
      { caption: `${tokens.length} tokens` },
    ),
  );
}

async function workgroupsSection(host, workgroups, refresh) {
  const edit = async (w) => {
    const got = await dialog(
      w ? `Workgroup ${w.name}` : "New workgroup",
      h(
        "div",
        {},
        w ? null : field("Name", h("input", { name: "name", required: true, autocomplete: "off" })),
        field("Timeout (s)", h("input", { name: "timeout_seconds", type: "number", min: 1, value: w ? w.timeout_seconds : 1800 })),
        field("Max bytes scanned", h("input", { name: "max_bytes_scanned", type: "number", min: 0, value: w?.max_bytes_scanned ?? "" }), "Empty: no limit."),
        field("Max rows", h("input", { name: "max_rows", type: "number", min: 0, value: w?.max_rows ?? "" })),
        field("Concurrent queries", h("input", { name: "max_concurrent", type: "number", min: 1, value: w ? w.max_concurrent : 4 })),
        field("Queued queries", h("input", { name: "max_queued", type: "number", min: 0, value: w ? w.max_queued : 16 })),
        field("Memory per query", h("input", { name: "memory_limit", value: w?.memory_limit ?? "", placeholder: "2GB" })),
        field("Description", h("input", { name: "description", value: w?.description ?? "" })),
      ),
    );
    if (!got) return;
    const num = (v) => (blankToNull(v) === null ? null : Number(v));
    const body = {
      timeout_seconds: num(got.timeout_seconds),
      max_bytes_scanned: num(got.max_bytes_scanned),
      max_rows: num(got.max_rows),
      max_concurrent: num(got.max_concurrent),
      max_queued: num(got.max_queued),
      memory_limit: blankToNull(got.memory_limit),
      description: got.description || "",
    };
    const name = w ? w.name : got.name;
    if (await attempt(() => put(`/v1/workgroups/${enc(name)}`, body), `Saved workgroup ${name}`)) refresh();
  };
  clear(
    host,
    h("div", { class: "section-head" }, h("h2", {}, "Workgroups"), h("button", { type: "button", class: "primary", onclick: () => edit(null) }, "New workgroup")),
    table(
      [
        ["Name", (w) => h("strong", {}, w.name)],
        ["Timeout", (w) => ms(w.timeout_seconds * 1000), "num"],
        ["Bytes scanned", (w) => (w.max_bytes_scanned === null ? "no limit" : bytes(w.max_bytes_scanned)), "num"],
        ["Rows", (w) => (w.max_rows === null ? "no limit" : w.max_rows.toLocaleString("en-US")), "num"],
        ["Concurrent / queued", (w) => `${w.max_concurrent} / ${w.max_queued}`, "num"],
        ["Memory", (w) => w.memory_limit || "default"],
        ["", (w) => h("button", { type: "button", onclick: () => edit(w) }, "Change")],
      ],
      workgroups,
      { caption: `${workgroups.length} workgroups`, empty: "No workgroups: every principal runs with the server's defaults." },
    ),
  );
}

async function grantsSection(host, refresh) {
  const { grants } = await get("/v1/grants");
  const add = async () => {
    const got = await dialog(
      "New grant",
      h(
        "div",
        {},
        field("To", h("select", { name: "kind" }, opt(["principal", "workgroup"], "principal"))),
        field("Grantee", h("input", { name: "grantee", required: true, autocomplete: "off" })),
        field("Database", h("input", { name: "database", required: true })),
        field("Table", h("input", { name: "table", value: "*" }), "* grants every table of the database, also later ones."),
        field("Columns", h("input", { name: "columns", placeholder: "id, region — empty: all" })),
        field("Leave those columns out", h("input", { name: "exclude", type: "checkbox", value: "yes" })),
        field("Row filter", h("input", { name: "row_filter", placeholder: "region = 'EU'" })),
      ),
      { submit: "Grant" },
    );
    if (!got) return;
    const columns = blankToNull(got.columns) === null ? null : got.columns.split(",").map((c) => c.trim()).filter(Boolean);
    const body = {
      database: got.database,
      table: blankToNull(got.table) || "*",
      [got.kind]: got.grantee,
      columns,
      exclude: got.exclude === "yes",
      row_filter: blankToNull(got.row_filter),
    };
    if (await attempt(() => post("/v1/grants", body), "Granted")) refresh();
  };
  const revoke = async (g) => {
    const sure = await dialog("Revoke this grant?", h("p", {}, g.reads), { submit: "Revoke", danger: true });
    if (sure && (await attempt(() => del(`/v1/grants/${g.id}`), "Grant revoked"))) refresh();
  };
  clear(
    host,
    h("div", { class: "section-head" }, h("h2", {}, "Grants"), h("button", { type: "button", class: "primary", onclick: add }, "New grant")),
    table(
      [
        ["To", (g) => `${g.grantee_kind} ${g.grantee}`],
        ["Reads", (g) => g.reads],
        ["By", (g) => g.granted_by],
        ["When", (g) => when(g.created_at)],
        ["", (g) => h("button", { type: "button", class: "danger", onclick: () => revoke(g), "aria-label": `Revoke grant ${g.id}` }, "Revoke")],
      ],
      grants,
      { caption: `${grants.length} grants`, empty: "No grants: analysts see nothing yet." },
    ),
  );
}

async function nodesSection(host) {
  const { nodes, this: here } = await get("/v1/nodes");
  const up = nodes.filter((n) => n.state === "up").length;
  clear(
    host,
    h("div", { class: "section-head" }, h("h2", {}, "Nodes")),
    table(
      [
        ["Node", (n) => h("strong", {}, n.id === here ? `${n.id} (this one)` : n.id)],
        ["State", (n) => h("span", { class: `badge state-${n.state}` }, n.state)],
        ["Roles", (n) => n.roles],
        ["Host", (n) => `${n.host} (pid ${n.pid})`],
        ["Serves", (n) => [n.http_url, n.pg_url].filter(Boolean).join(" ") || "—"],
        ["Version", (n) => n.version],
        ["Heartbeat", (n) => `${n.heartbeat_age_seconds} s ago`, "num"],
        ["Started", (n) => when(n.started_at)],
      ],
      nodes,
      { caption: `${up} of ${nodes.length} nodes up`, empty: "No nodes registered." },
    ),
  );
}

export async function render(root, ctx) {
  if (ctx.principal.role !== "admin") {
    clear(root, failure({ code: "auth.forbidden", message: "The admin pages are for admins." }));
    return;
  }
  const sections = ["principals", "tokens", "workgroups", "grants", "nodes"].map((name) => h("section", { class: "admin-section", id: `admin-${name}`, "aria-label": name }));
  const [people, tokens, groups, grants, nodeList] = sections;
  clear(root, h("div", { class: "admin" }, sections));
  const refresh = async () => {
    try {
      const { workgroups } = await get("/v1/workgroups");
      await Promise.all([
        principalsSection(people, workgroups, refresh),
        tokensSection(tokens, refresh),
        workgroupsSection(groups, workgroups, refresh),
        grantsSection(grants, refresh),
        nodesSection(nodeList),
      ]);
    } catch (err) {
      clear(root, failure(err));
    }
  };
  await refresh();
}
