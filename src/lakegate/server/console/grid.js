// A results grid that stays fast with 100,000 rows: only the rows in view exist in the page
// (virtual scrolling), sorting reorders an index, columns are resized by dragging the edge of
// their header (or with Shift+←/→ on a focused header). NULL is shown apart from the text "NULL".

import { h } from "./ui.js";

const ROW = 28; // px, one row
const OVERSCAN = 10;
const NUMERIC = /^(int|uint|double|float|decimal|halffloat)/i;

function text(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// Each column as wide as its content (the header and the first rows), within bounds: a date
// shows whole without a third of the grid left empty, a long text is cut with an ellipsis.
const SAMPLE = 200;
let measure = null;

function fitted(columns, rows) {
  measure = measure || document.createElement("canvas").getContext("2d");
  const mono = getComputedStyle(document.documentElement).getPropertyValue("--mono") || "monospace";
  return columns.map((c, i) => {
    measure.font = "600 13px system-ui, sans-serif";
    let widest = measure.measureText(c.name).width + 34; // the sort mark and the resize edge
    measure.font = `12.5px ${mono}`;
    for (const row of rows.slice(0, SAMPLE)) {
      const shown = text(row[i]);
      const value = shown === null ? "NULL" : shown.length > 80 ? shown.slice(0, 80) : shown;
      widest = Math.max(widest, measure.measureText(value).width + 18); // the cell's padding
    }
    return Math.round(Math.min(480, Math.max(56, widest)));
  });
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1; // NULLs last, either way
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  const na = Number(a);
  const nb = Number(b);
  if (typeof a === "string" && typeof b === "string" && a !== "" && b !== "" && !Number.isNaN(na) && !Number.isNaN(nb)) {
    return na - nb;
  }
  return String(a) < String(b) ? -1 : 1;
}

export class Grid {
  constructor({ columns, rows, label = "Query result" }) {
    this.columns = columns;
    this.rows = rows;
    this.order = rows.map((_, i) => i);
    this.sort = null; // {index, descending}
    this.widths = fitted(columns, rows);
    this.first = -1;
    this.last = -1;
    this.header = h("div", { class: "grid-row grid-head", role: "row", "aria-rowindex": "1" });
    this.spacer = h("div", { class: "grid-spacer" });
    this.body = h("div", { class: "grid-body", role: "rowgroup" });
    this.spacer.append(this.body);
    this.el = h(
      "div",
      {
        class: "grid",
        role: "grid",
        tabindex: "0",
        "aria-label": label,
        "aria-rowcount": String(rows.length + 1),
        "aria-colcount": String(columns.length),
        onscroll: () => this.schedule(),
        onkeydown: (event) => this.keys(event),
      },
      this.header,
      this.spacer,
    );
    this.renderHeader();
    this.layout();
    new ResizeObserver(() => this.schedule()).observe(this.el);
  }

  template() {
    return this.widths.map((w) => `${w}px`).join(" ");
  }

  layout() {
    const total = this.widths.reduce((a, b) => a + b, 0);
    this.el.style.setProperty("--grid-columns", this.template());
    this.el.style.setProperty("--grid-width", `${total}px`);
    this.spacer.style.height = `${this.rows.length * ROW}px`;
    this.first = -1;
    this.schedule();
  }

  renderHeader() {
    this.header.replaceChildren(
      ...this.columns.map((column, index) => {
        const sorted = this.sort && this.sort.index === index;
        const arrow = sorted ? (this.sort.descending ? " ▼" : " ▲") : "";
        const button = h(
          "button",
          {
            type: "button",
            class: "grid-sort",
            title: `${column.name} (${column.type}) — click to sort; Shift+←/→ to resize`,
            onclick: () => this.sortBy(index),
            onkeydown: (event) => {
              if (event.shiftKey && (event.key === "ArrowLeft" || event.key === "ArrowRight")) {
                event.preventDefault();
                this.resize(index, this.widths[index] + (event.key === "ArrowLeft" ? -20 : 20));
              }
            },
          },
          h("span", { class: "grid-name" }, column.name, arrow),
          h("span", { class: "grid-type" }, column.type),
        );
        const handle = h("span", { class: "grid-resize", "aria-hidden": "true", onpointerdown: (e) => this.drag(e, index) });
        return h(
          "div",
          {
            class: "grid-cell",
            role: "columnheader",
            "aria-colindex": String(index + 1),
            "aria-sort": sorted ? (this.sort.descending ? "descending" : "ascending") : "none",
          },
          button,
          handle,
        );
      }),
    );
  }

  resize(index, width) {
    this.widths[index] = Math.max(40, Math.min(2000, width));
    this.layout();
  }

  drag(event, index) {
    event.preventDefault();
    const start = event.clientX;
    const width = this.widths[index];
    const move = (e) => this.resize(index, width + e.clientX - start);
    const up = () => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  }

  sortBy(index) {
    const descending = this.sort && this.sort.index === index ? !this.sort.descending : false;
    this.sort = { index, descending };
    const rows = this.rows;
    this.order.sort((a, b) => {
      const va = rows[a][index];
      const vb = rows[b][index];
      if (va === null || vb === null) return compare(va, vb); // NULLs stay last
      return descending ? compare(vb, va) : compare(va, vb);
    });
    this.renderHeader();
    this.first = -1;
    this.schedule();
    this.header.querySelectorAll(".grid-sort")[index].focus();
  }

  keys(event) {
    const page = Math.max(1, Math.floor(this.el.clientHeight / ROW) - 1);
    const moves = { ArrowDown: ROW, ArrowUp: -ROW, PageDown: page * ROW, PageUp: -page * ROW };
    if (event.target !== this.el) return;
    if (event.key in moves) {
      event.preventDefault();
      this.el.scrollTop += moves[event.key];
    } else if (event.key === "Home") {
      this.el.scrollTop = 0;
    } else if (event.key === "End") {
      this.el.scrollTop = this.spacer.offsetHeight;
    }
  }

  schedule() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.render();
    });
  }

  render() {
    const top = this.el.scrollTop;
    const height = this.el.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / ROW) + OVERSCAN);
    if (first === this.first && last === this.last) return;
    this.first = first;
    this.last = last;
    this.body.style.transform = `translateY(${first * ROW}px)`;
    const numeric = this.columns.map((c) => NUMERIC.test(c.type));
    const out = [];
    for (let r = first; r < last; r += 1) {
      const row = this.rows[this.order[r]];
      const cells = [];
      for (let c = 0; c < this.columns.length; c += 1) {
        const value = text(row[c]);
        const cell = document.createElement("div");
        cell.setAttribute("role", "gridcell");
        if (value === null) {
          cell.className = "grid-cell null";
          cell.textContent = "NULL";
        } else {
          cell.className = numeric[c] ? "grid-cell num" : "grid-cell";
          cell.textContent = value.length > 500 ? `${value.slice(0, 500)}…` : value;
          if (value.length > 20) cell.title = value.slice(0, 2000);
        }
        cells.push(cell);
      }
      const line = document.createElement("div");
      line.className = "grid-row";
      line.setAttribute("role", "row");
      line.setAttribute("aria-rowindex", String(r + 2));
      line.append(...cells);
      out.push(line);
    }
    this.body.replaceChildren(...out);
  }

  // Rows in the order shown (for the chart and tests).
  shown() {
    return this.order.map((i) => this.rows[i]);
  }
}
