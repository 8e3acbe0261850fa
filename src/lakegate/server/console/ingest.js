// The ingestion view: arrivals updating live (accepted into a table and partition, or
// quarantined with the reason), throughput and arrival-to-query latency over the last hour, the
// quarantine with replay and purge (admins), and drag-and-drop upload into landing (providers
// into their prefix, admins anywhere).

import { call, enc, get, post } from "./api.js";
import { draw } from "./chart.js";
import { ago, bytes, clear, count, dialog, empty, failure, h, ms, table, toast } from "./ui.js";

const POLL_MS = 1500;

function outcomeBadge(a) {
  return h("span", { class: `badge outcome-${a.outcome}` }, a.outcome);
}

// Where an accepted file went, and — loudly — the schema change it made to its table.
function became(a) {
  if (a.outcome === "accepted") {
    return [
      h("code", {}, `${a.database}.${a.table}`),
      a.partition ? h("small", {}, ` ${a.partition}`) : null,
      a.schema_change ? h("div", { class: "schema-change", title: a.schema_change.changes.join("\n") }, a.schema_change.text) : null,
    ];
  }
  if (a.reason) return h("span", { class: "reason", title: a.how_to_fix || "" }, `${a.reason_code}: ${a.reason}`);
  return h("span", { class: "muted" }, a.state);
}

function arrivalsTable(arrivals) {
  return table(
    [
      ["Outcome", outcomeBadge],
      ["Object", (a) => h("code", { title: a.key }, a.key)],
      ["Became", became],
      ["Rows", (a) => count(a.rows), "num"],
      ["Size", (a) => bytes(a.size), "num"],
      ["Arrival → query", (a) => ms(a.latency_ms), "num"],
      ["When", (a) => h("span", { title: new Date(a.arrived_at * 1000).toISOString() }, ago(a.arrived_at))],
    ],
    arrivals,
    { caption: "Recent arrivals, newest first", empty: "Nothing has arrived yet.", rowProps: (a) => ({ dataset: { key: a.key, outcome: a.outcome } }) },
  );
}

function timelineCharts(buckets) {
  const label = (b) => new Date(b.start * 1000).toTimeString().slice(0, 5);
  const recent = buckets.slice(-30);
  const total = buckets.reduce((n, b) => n + b.accepted + b.quarantined, 0);
  if (!total) return empty("No arrivals in the last hour.");
  const latencies = buckets.filter((b) => b.latency_p50_ms !== null).map((b) => [(b.start - Date.now() / 1000) / 60, b.latency_p50_ms]);
  return h(
    "div",
    { class: "charts" },
    h(
      "figure",
      {},
      h("figcaption", {}, "Files accepted per minute (last 30 min)"),
      draw({ kind: "bar", columns: [{ name: "minute" }, { name: "accepted" }], rows: recent.map((b) => [label(b), b.accepted]), x: 0, y: 1 }),
    ),
    h(
      "figure",
      {},
      h("figcaption", {}, "Median arrival-to-query latency, ms (minutes ago)"),
      latencies.length
        ? draw({ kind: "line", columns: [{ name: "minutes ago" }, { name: "latency ms" }], rows: latencies, x: 0, y: 1, xDomain: [-60, 0] })
        : empty("No accepted file yet."),
    ),
  );
}

async function quarantineSection(host, refresh) {
  const { objects } = await get("/v1/quarantine?limit=200");
  const act = async (o, verb) => {
    if (verb === "purge") {
      const sure = await dialog(`Purge ${o.object}?`, h("p", {}, "Its quarantined copy is deleted for good. The record of it stays."), { submit: "Purge", danger: true });
      if (!sure) return;
    }
    try {
      await post(`/v1/quarantine/${o.id}/${verb}`, {});
      toast(verb === "replay" ? `Replayed ${o.object}: it is taken again as a new delivery` : `Purged ${o.object}`);
      refresh();
    } catch (err) {
      toast(err.message, "bad");
    }
  };
  const current = objects.filter((o) => o.state === "quarantined");
  clear(
    host,
    table(
      [
        ["Object", (o) => h("code", {}, o.object)],
        ["Reason", (o) => h("div", {}, h("strong", {}, o.reason_code), " ", o.reason, o.how_to_fix ? h("p", { class: "hint" }, o.how_to_fix) : null)],
        ["Details", (o) => (Object.keys(o.details || {}).length ? h("details", {}, h("summary", {}, "details"), h("pre", {}, JSON.stringify(o.details, null, 2))) : "–")],
        ["Size", (o) => bytes(o.size), "num"],
        ["When", (o) => ago(o.landed_at)],
        [
          "",
          (o) =>
            h(
              "div",
              { class: "row-actions" },
              h("button", { type: "button", onclick: () => act(o, "replay"), "aria-label": `Replay ${o.object}` }, "Replay"),
              h("button", { type: "button", class: "danger", onclick: () => act(o, "purge"), "aria-label": `Purge ${o.object}` }, "Purge"),
            ),
        ],
      ],
      current,
      { caption: `${current.length} quarantined objects`, empty: "The quarantine is empty.", rowProps: (o) => ({ dataset: { key: o.object } }) },
    ),
  );
}

function uploader(ctx, onUploaded) {
  const p = ctx.principal;
  const prefix = p.role === "provider" ? (p.landing_prefix || "").replace(/^\/|\/$/g, "") : "";
  const folder = h("input", { type: "text", value: prefix, "aria-label": "Folder in landing", readonly: p.role === "provider", size: 30 });
  const picker = h("input", { type: "file", multiple: true, class: "visually-hidden", id: "upload-files" });
  const log = h("ul", { class: "upload-log", "aria-live": "polite" });
  const send = async (files) => {
    for (const file of files) {
      const dir = folder.value.replace(/^\/+|\/+$/g, "");
      const key = dir ? `${dir}/${file.name}` : file.name;
      const line = h("li", {}, `${file.name} → landing/${key}: uploading…`);
      log.prepend(line);
      try {
        await call("POST", `/v1/upload/${key.split("/").map(enc).join("/")}`, { body: file, headers: { "Content-Type": "application/octet-stream" } });
        line.textContent = `${file.name} → landing/${key}: uploaded (${bytes(file.size)}); see below what became of it`;
        line.className = "ok";
        onUploaded();
      } catch (err) {
        line.textContent = `${file.name}: ${err.message}${err.hint ? ` (${err.hint})` : ""}`;
        line.className = "bad";
      }
    }
  };
  picker.addEventListener("change", () => send([...picker.files]));
  const zone = h(
    "div",
    {
      class: "dropzone",
      tabindex: "0",
      role: "button",
      "aria-label": "Drop files here, or press Enter to choose files to upload",
      onclick: () => picker.click(),
      onkeydown: (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          picker.click();
        }
      },
      ondragover: (e) => {
        e.preventDefault();
        zone.classList.add("over");
      },
      ondragleave: () => zone.classList.remove("over"),
      ondrop: (e) => {
        e.preventDefault();
        zone.classList.remove("over");
        send([...e.dataTransfer.files]);
      },
    },
    h("strong", {}, "Drop files here"),
    h("span", {}, " or click to choose them"),
  );
  return h("section", { class: "upload", "aria-label": "Upload" }, h("h2", {}, "Upload into landing"), h("label", {}, "landing/ ", folder), zone, picker, log);
}

export async function render(root, ctx) {
  const p = ctx.principal;
  const live = h("section", { "aria-label": "Arrivals" }, h("p", { class: "loading" }, "Loading…"));
  const charts = h("section", { class: "timeline", "aria-label": "Throughput and latency" });
  const quarantine = h("section", { "aria-label": "Quarantine" });
  let signature = "";
  const refresh = async () => {
    try {
      const { arrivals } = await get("/v1/arrivals?limit=100");
      const next = JSON.stringify(arrivals.map((a) => [a.id, a.state]));
      if (next !== signature) {
        signature = next;
        clear(live, h("h2", {}, "Arrivals ", h("span", { class: "live-dot", title: "updating live" }, "● live")), arrivalsTable(arrivals));
        if (p.role === "admin") quarantineSection(quarantine, refresh).catch((err) => clear(quarantine, failure(err)));
      }
    } catch (err) {
      clear(live, failure(err));
    }
  };
  const refreshCharts = async () => {
    try {
      const { buckets } = await get("/v1/arrivals/timeline?window=3600&bucket=60");
      clear(charts, h("h2", {}, "Last hour"), timelineCharts(buckets));
    } catch (err) {
      clear(charts, failure(err));
    }
  };
  const canUpload = p.role === "provider" || p.role === "admin";
  clear(
    root,
    h(
      "div",
      { class: "ingest" },
      canUpload ? uploader(ctx, refresh) : null,
      live,
      charts,
      p.role === "admin" ? h("div", {}, h("h2", {}, "Quarantine"), quarantine) : null,
    ),
  );
  await Promise.all([refresh(), refreshCharts()]);
  const timers = [setInterval(refresh, POLL_MS), setInterval(refreshCharts, 10000)];
  return () => timers.forEach(clearInterval);
}
