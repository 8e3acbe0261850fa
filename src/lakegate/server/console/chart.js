// A quick chart of a result: bar, line or scatter, x and y picked from its columns. Drawn as
// SVG by hand (no library): up to 5,000 points, bars for the first 200 categories.

import { h } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";
const W = 860;
const H = 360;
const M = { top: 16, right: 20, bottom: 64, left: 72 };

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function asNumber(v) {
  if (v === null || v === undefined || v === "") return null;
  if (typeof v === "number") return v;
  const n = Number(v);
  if (!Number.isNaN(n)) return n;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

function ticks(lo, hi, n = 5) {
  if (lo === hi) return [lo];
  const step = 10 ** Math.floor(Math.log10((hi - lo) / n));
  const err = ((hi - lo) / n) / step;
  const nice = step * (err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1);
  const out = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + nice / 1e6; v += nice) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v, dates) {
  if (dates) return new Date(v).toISOString().slice(0, 10);
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  return String(Number(v.toPrecision(6)));
}

export function numericColumns(columns, rows) {
  return columns
    .map((c, i) => i)
    .filter((i) => rows.slice(0, 50).some((r) => typeof r[i] === "number" || (r[i] !== null && !Number.isNaN(Number(r[i])) && r[i] !== "")));
}

// What a chart of a result shows first: a time column on x (else the first category — a column
// that is not a number), a measure on y (the last number that is not the x column nor an id), as
// a line over time or bars by category. No number at all: the chart says so, and asks for one.
export function chartDefaults(columns, rows) {
  const numeric = numericColumns(columns, rows);
  const isTime = (i) => /^(date|time|timestamp)/i.test(String(columns[i].type || ""));
  const indexes = columns.map((_, i) => i);
  let x = indexes.find(isTime);
  if (x === undefined) x = indexes.find((i) => !numeric.includes(i));
  if (x === undefined) x = 0;
  const measures = numeric.filter((i) => i !== x && !isTime(i) && !/(^|_)(id|key)$/i.test(columns[i].name));
  const y = measures.length ? measures[measures.length - 1] : (numeric.find((i) => i !== x) ?? numeric[0] ?? 0);
  return { x, y, kind: isTime(x) ? "line" : "bar" };
}

export function draw({ kind, columns, rows, x, y, xDomain }) {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`,
    class: "chart",
    role: "img",
    "aria-label": `${kind} chart of ${columns[y].name} by ${columns[x].name}`,
  });
  const values = rows.map((r) => asNumber(r[y]));
  const usable = rows.map((r, i) => [r[x], values[i]]).filter(([, v]) => v !== null);
  if (!usable.length) return h("p", { class: "empty" }, `${columns[y].name} has no numbers to chart.`);
  let points;
  let xs;
  let categorical = kind === "bar";
  let dates = false;
  if (!categorical) {
    const numeric = usable.map(([a, b]) => [asNumber(a), b]).filter(([a]) => a !== null);
    if (numeric.length < usable.length / 2) categorical = true;
    else {
      dates = usable.some(([a]) => typeof a === "string" && Number.isNaN(Number(a)));
      points = numeric.slice(0, 5000);
      if (kind === "line") points.sort((a, b) => a[0] - b[0]);
    }
  }
  const ys = categorical ? usable.slice(0, 200).map(([, v]) => v) : points.map((p) => p[1]);
  let lo = Math.min(0, ...ys);
  let hi = Math.max(0, ...ys);
  if (lo === hi) hi = lo + 1;
  hi += (hi - lo) * 0.08; // headroom above the highest value
  const yScale = (v) => M.top + plotH - ((v - lo) / (hi - lo)) * plotH;
  for (const t of ticks(lo, hi)) {
    svg.append(s("line", { x1: M.left, x2: W - M.right, y1: yScale(t), y2: yScale(t), class: "grid-line" }));
    svg.append(s("text", { x: M.left - 8, y: yScale(t) + 4, "text-anchor": "end", class: "tick" }, label(t, false)));
  }
  if (categorical) {
    const cats = usable.slice(0, 200);
    const band = plotW / cats.length;
    cats.forEach(([cat, v], i) => {
      const top = yScale(Math.max(0, v));
      const height = Math.abs(yScale(v) - yScale(0));
      const bar = s("rect", { x: M.left + i * band + band * 0.1, y: top, width: Math.max(1, band * 0.8), height: Math.max(0.5, height), class: "bar" });
      bar.append(s("title", {}, `${cat}: ${v}`));
      svg.append(bar);
      if (cats.length <= 40) {
        const tx = M.left + i * band + band / 2;
        svg.append(s("text", { x: tx, y: H - M.bottom + 14, "text-anchor": "end", transform: `rotate(-35 ${tx} ${H - M.bottom + 14})`, class: "tick" }, String(cat).slice(0, 16)));
      }
    });
  } else {
    xs = points.map((p) => p[0]);
    let [xlo, xhi] = xDomain || [Math.min(...xs), Math.max(...xs)];
    if (xlo === xhi) xhi = xlo + 1;
    const xScale = (v) => M.left + ((v - xlo) / (xhi - xlo)) * plotW;
    for (const t of ticks(xlo, xhi, dates ? 4 : 6)) {
      svg.append(s("text", { x: xScale(t), y: H - M.bottom + 18, "text-anchor": "middle", class: "tick" }, label(t, dates)));
    }
    if (kind === "line") {
      svg.append(s("polyline", { points: points.map(([a, b]) => `${xScale(a)},${yScale(b)}`).join(" "), class: "line" }));
      if (points.length <= 60) {
        for (const [a, b] of points) {
          const dot = s("circle", { cx: xScale(a), cy: yScale(b), r: 3.5, class: "dot" });
          dot.append(s("title", {}, `${label(a, dates)}: ${b}`));
          svg.append(dot);
        }
      }
    } else {
      for (const [a, b] of points) {
        const dot = s("circle", { cx: xScale(a), cy: yScale(b), r: 3, class: "dot" });
        dot.append(s("title", {}, `${a}, ${b}`));
        svg.append(dot);
      }
    }
  }
  svg.append(s("line", { x1: M.left, x2: W - M.right, y1: yScale(0), y2: yScale(0), class: "axis" }));
  svg.append(s("text", { x: M.left + plotW / 2, y: H - 6, "text-anchor": "middle", class: "axis-label" }, columns[x].name));
  svg.append(s("text", { x: 14, y: M.top + plotH / 2, transform: `rotate(-90 14 ${M.top + plotH / 2})`, "text-anchor": "middle", class: "axis-label" }, columns[y].name));
  return svg;
}
