// The SQL workspace: editor (highlighting, completion of what the principal may read, Ctrl/Cmd-
// Enter to run), run and cancel, dialect, results grid, statistics, error marked in the editor,
// downloads, a quick chart, the query history and saved queries.

import { ApiError, del, get, post, qs } from "./api.js";
import { chartDefaults, draw } from "./chart.js";
import { Grid } from "./grid.js";
import { bytes, clear, count, dialog, download, empty, failure, field, h, ms, tablist, toast, when } from "./ui.js";
import {
  EditorState,
  EditorView,
  Prec,
  PostgreSQL,
  basicSetup,
  keymap,
  placeholder,
  setDiagnostics,
  sql as sqlLanguage,
} from "./vendor/codemirror.js";

const MAX_ROWS = 100000; // rows fetched into the grid; downloads have them all
const FINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
const DRAFT = "lakegate.draft";

let view = null; // the editor, kept across visits of the page
let dialect = localStorage.getItem("lakegate.dialect") || "duckdb";
let current = null; // {id, state, record, result}

function offsetOf(state, position) {
  const line = state.doc.line(Math.min(Math.max(1, position.line), state.doc.lines));
  const from = Math.min(line.to, line.from + Math.max(0, (position.column || 1) - 1));
  return { from, to: Math.min(line.to, from + Math.max(1, position.length || 1)) };
}

function markError(error, position) {
  if (!view) return;
  if (!position) {
    view.dispatch(setDiagnostics(view.state, []));
    return;
  }
  const { from, to } = offsetOf(view.state, position);
  view.dispatch(setDiagnostics(view.state, [{ from, to, severity: "error", message: error }]));
  view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
}

async function schemaForCompletion() {
  const { tables } = await get("/v1/tables");
  const schema = {};
  for (const t of tables) {
    schema[t.database] = schema[t.database] || {};
    schema[t.database][t.name] = t.columns.map((c) => ({ label: c.name, type: "property", detail: c.type }));
  }
  return schema;
}

function makeEditor(parent, schema, run) {
  const doc = localStorage.getItem(DRAFT) || "";
  const state = EditorState.create({
    doc,
    extensions: [
      Prec.highest(keymap.of([{ key: "Mod-Enter", run: () => (run(), true) }])),
      basicSetup,
      sqlLanguage({ dialect: PostgreSQL, schema, upperCaseKeywords: true }),
      placeholder("SELECT … — Ctrl/Cmd-Enter runs it"),
      EditorView.contentAttributes.of({ "aria-label": "SQL editor" }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) localStorage.setItem(DRAFT, update.state.doc.toString());
      }),
    ],
  });
  return new EditorView({ state, parent });
}

export function setSql(text, newDialect) {
  if (newDialect) dialect = newDialect;
  localStorage.setItem(DRAFT, text);
  if (view) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

export async function render(root, ctx) {
  const status = h("div", { class: "run-status", role: "status", "aria-live": "polite" });
  const errorBox = h("div", { class: "run-error" });
  const results = h("div", { class: "results" });
  const side = h("aside", { class: "side", "aria-label": "History and saved queries" });
  const runButton = h("button", { type: "button", class: "primary", title: "Run (Ctrl/Cmd-Enter)" }, "▶ Run");
  const cancelButton = h("button", { type: "button", disabled: true }, "■ Cancel");
  const saveButton = h("button", { type: "button" }, "Save…");
  const dialectSelect = h(
    "select",
    { "aria-label": "SQL dialect", onchange: (e) => { dialect = e.target.value; localStorage.setItem("lakegate.dialect", dialect); } },
    ["duckdb", "athena"].map((d) => h("option", { value: d, selected: d === dialect }, d === "duckdb" ? "DuckDB SQL" : "Athena (Trino) SQL")),
  );
  const downloads = h(
    "div",
    { class: "downloads", role: "group", "aria-label": "Download the result" },
    ["csv", "parquet", "json"].map((f) =>
      h("button", { type: "button", disabled: true, dataset: { format: f }, onclick: () => download(`/v1/queries/${current.id}/results?format=${f}`) }, `⤓ ${f.toUpperCase()}`),
    ),
  );
  const editorHost = h("div", { class: "editor" });
  clear(
    root,
    h(
      "div",
      { class: "workspace" },
      h(
        "section",
        { class: "main-col", "aria-label": "SQL workspace" },
        editorHost,
        h("div", { class: "toolbar" }, runButton, cancelButton, dialectSelect, saveButton, h("span", { class: "spacer" }), downloads),
        status,
        errorBox,
        results,
      ),
      side,
    ),
  );
  let schema = {};
  try {
    schema = await schemaForCompletion();
  } catch (err) {
    errorBox.append(failure(err));
  }
  if (view) view.destroy();
  view = makeEditor(editorHost, schema, () => runButton.click());

  let polling = null;
  function setRunning(running) {
    runButton.disabled = running;
    cancelButton.disabled = !running;
    for (const b of downloads.querySelectorAll("button")) b.disabled = running || !current || current.state !== "SUCCEEDED";
  }

  function showStats(record, result) {
    const parts = [
      h("span", { class: `state state-${record.state.toLowerCase()}` }, record.state.toLowerCase()),
      result ? h("span", {}, `${count(result.row_count)} rows`) : null,
      record.elapsed_ms !== null && record.elapsed_ms !== undefined ? h("span", {}, ms(record.elapsed_ms)) : null,
      record.bytes_scanned !== null && record.bytes_scanned !== undefined ? h("span", {}, `${bytes(record.bytes_scanned)} scanned`) : null,
      record.engine && record.engine !== "duckdb" ? h("span", { class: "engine" }, `on ${record.engine}`) : null,
      result && result.row_count > result.rows.length ? h("span", { class: "hint" }, `showing the first ${count(result.rows.length)}; download for all`) : null,
    ];
    clear(status, parts);
  }

  function showResult(result) {
    const grid = new Grid({ columns: result.columns, rows: result.rows });
    const chartHost = h("div", { class: "chart-host" });
    const chosen = chartDefaults(result.columns, result.rows);
    const pick = (label, index) =>
      h("select", { "aria-label": label }, result.columns.map((c, i) => h("option", { value: i, selected: i === index }, c.name)));
    const kind = h("select", { "aria-label": "Chart type" }, ["bar", "line", "scatter"].map((k) => h("option", { value: k, selected: k === chosen.kind }, k)));
    const xs = pick("X axis", chosen.x);
    const ys = pick("Y axis", chosen.y);
    const redraw = () => {
      const picked = { kind: kind.value, columns: result.columns, rows: grid.shown(), x: Number(xs.value), y: Number(ys.value) };
      clear(chartHost, draw(picked));
    };
    for (const s of [kind, xs, ys]) s.addEventListener("change", redraw);
    const gridTab = h("button", { type: "button", role: "tab", "aria-selected": "true", id: "tab-grid" }, "Grid");
    const chartTab = h("button", { type: "button", role: "tab", "aria-selected": "false", id: "tab-chart" }, "Chart");
    const gridPanel = h("div", { role: "tabpanel", "aria-labelledby": "tab-grid", class: "grid-panel" }, result.columns.length ? grid.el : empty("The query returned no columns."));
    const chartPanel = h(
      "div",
      { role: "tabpanel", "aria-labelledby": "tab-chart", hidden: true },
      h("div", { class: "chart-controls" }, field("Chart", kind), field("X", xs), field("Y", ys)),
      chartHost,
    );
    const select = (chart) => {
      gridTab.setAttribute("aria-selected", String(!chart));
      chartTab.setAttribute("aria-selected", String(chart));
      gridPanel.hidden = chart;
      chartPanel.hidden = !chart;
      if (chart) redraw();
    };
    gridTab.addEventListener("click", () => select(false));
    chartTab.addEventListener("click", () => select(true));
    clear(
      results,
      tablist("Result views", [gridTab, chartTab]),
      result.row_count === 0 ? empty("No rows.", "The query ran and matched nothing.") : null,
      gridPanel,
      chartPanel,
    );
    if (result.columns.length) grid.render();
  }

  async function finished(record) {
    current.state = record.state;
    current.record = record;
    clearInterval(polling);
    polling = null;
    if (record.state === "SUCCEEDED") {
      try {
        const result = await get(`/v1/queries/${record.id}/results${qs({ limit: MAX_ROWS })}`);
        showStats(record, result);
        showResult(result);
      } catch (err) {
        clear(errorBox, failure(err));
      }
    } else {
      showStats(record, null);
      const error = { code: record.error_code || "query.failed", message: record.error || record.state.toLowerCase() };
      if (record.state === "CANCELLED") clear(results, empty("The query was cancelled."));
      else clear(results);
      clear(errorBox, failure(error));
      markError(record.error, record.error_position);
    }
    setRunning(false);
    loadSide();
  }

  async function run() {
    if (runButton.disabled) return; // one query at a time (a re-run from the history included)
    const text = view.state.doc.toString();
    const selection = view.state.sliceDoc(view.state.selection.main.from, view.state.selection.main.to);
    const statement = selection.trim() ? selection : text;
    if (!statement.trim()) {
      clear(errorBox, failure({ code: "console.empty", message: "Write a query first." }));
      return;
    }
    markError(null, null);
    clear(errorBox);
    clear(status, h("span", { class: "state state-running" }, "running…"));
    clear(results);
    setRunning(true);
    current = { id: null, state: "SUBMITTING" };
    try {
      const record = await post("/v1/queries", { sql: statement, dialect, wait: 0.5 });
      const cancelled = current && current.cancelRequested;
      current = { id: record.id, state: record.state };
      if (FINAL.has(record.state)) return finished(record);
      if (cancelled) cancel();
      polling = setInterval(async () => {
        try {
          const next = await get(`/v1/queries/${record.id}`);
          if (current && current.id === record.id && FINAL.has(next.state) && polling) {
            clearInterval(polling);
            polling = null;
            await finished(next);
          }
        } catch (err) {
          clearInterval(polling);
          polling = null;
          clear(errorBox, failure(err));
          setRunning(false);
        }
      }, 250);
    } catch (err) {
      current = null;
      clear(status);
      clear(errorBox, failure(err));
      if (err instanceof ApiError && err.position) markError(err.message, err.position);
      setRunning(false);
    }
  }

  async function cancel() {
    if (!current) return;
    cancelButton.disabled = true;
    if (!current.id) {
      current.cancelRequested = true; // cancelled as soon as the server names the query
      return;
    }
    try {
      await post(`/v1/queries/${current.id}/cancel`, {});
    } catch (err) {
      clear(errorBox, failure(err));
    }
  }

  async function save() {
    const name = h("input", { name: "name", required: true, maxlength: 255, autocomplete: "off" });
    const got = await dialog("Save query", field("Name", name, "Saving under a name you used replaces that query."));
    if (!got) return;
    try {
      await post("/v1/saved-queries", { name: got.name, sql: view.state.doc.toString(), dialect });
      toast(`Saved “${got.name}”`);
      loadSide();
    } catch (err) {
      toast(err.message, "bad");
    }
  }

  async function loadSide() {
    let history = [];
    let saved = [];
    try {
      [{ queries: history }, { saved }] = await Promise.all([get("/v1/queries?limit=50"), get("/v1/saved-queries")]);
    } catch (err) {
      clear(side, failure(err));
      return;
    }
    const mine = history.filter((q) => q.principal === ctx.principal.name);
    const use = (q) => () => {
      setSql(q.sql, q.dialect);
      dialectSelect.value = dialect;
      view.focus();
    };
    clear(
      side,
      h("h2", {}, "Saved"),
      saved.length
        ? h(
            "ul",
            { class: "saved" },
            saved.map((q) =>
              h(
                "li",
                {},
                h("button", { type: "button", class: "link", onclick: use(q), title: q.sql }, q.name),
                h("button", {
                  type: "button",
                  class: "icon",
                  "aria-label": `Delete saved query ${q.name}`,
                  onclick: async () => {
                    await del(`/v1/saved-queries/${q.id}`);
                    loadSide();
                  },
                }, "✕"),
              ),
            ),
          )
        : empty("No saved queries.", "Save… keeps the editor's text under a name."),
      h("h2", {}, "History"),
      mine.length
        ? h(
            "ul",
            { class: "history" },
            mine.map((q) =>
              h(
                "li",
                {},
                h(
                  "button",
                  { type: "button", class: "link history-item", onclick: use(q), title: `${q.sql}\n\nclick to put it in the editor` },
                  h("span", { class: `state state-${q.state.toLowerCase()}` }, q.state.toLowerCase()),
                  h("code", {}, q.sql.length > 90 ? `${q.sql.slice(0, 90)}…` : q.sql),
                  h("small", {}, `${when(q.submitted_at)} · ${q.state === "SUCCEEDED" ? `${count(q.rows)} rows · ` : ""}${ms(q.elapsed_ms)}${q.engine && q.engine !== "duckdb" ? ` · on ${q.engine}` : ""}`),
                ),
                h("button", {
                  type: "button",
                  class: "icon",
                  "aria-label": "Run again",
                  title: "Run again",
                  onclick: () => {
                    use(q)();
                    run();
                  },
                }, "↻"),
              ),
            ),
          )
        : empty("No queries yet."),
    );
  }

  runButton.addEventListener("click", run);
  cancelButton.addEventListener("click", cancel);
  saveButton.addEventListener("click", save);
  loadSide();
  view.focus();
  return () => {
    clearInterval(polling);
  };
}
