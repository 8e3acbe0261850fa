// The console's shell: sign-in, the pages a principal's role may use, and hash routing
// (#/sql, #/catalog/db/table, #/ingest, #/admin).

import { del, get, post, setCsrf, whenSignedOut } from "./api.js";
import { clear, failure, h } from "./ui.js";

const PAGES = {
  sql: { title: "SQL", roles: ["admin", "analyst"], load: () => import("./sql.js") },
  catalog: { title: "Catalog", roles: ["admin", "analyst"], load: () => import("./catalog.js") },
  ingest: { title: "Ingestion", roles: ["admin", "analyst", "provider"], load: () => import("./ingest.js") },
  admin: { title: "Admin", roles: ["admin"], load: () => import("./admin.js") },
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
let ctx = null;
let leave = null;

function home(principal) {
  return principal.role === "provider" ? "ingest" : "sql";
}

function signInPage(message) {
  nav.hidden = true;
  clear(who);
  const token = h("input", { id: "token", name: "token", type: "password", autocomplete: "current-password", required: true, placeholder: "lg_…", spellcheck: "false" });
  const error = h("div", { "aria-live": "assertive" }, message ? failure(message) : null);
  const form = h(
    "form",
    { class: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to lakegate"),
    h("label", { for: "token" }, "API token"),
    token,
    h("p", { class: "hint" }, "An admin gives you a token (`lakegate tokens create NAME`). It is checked once; your browser then keeps a session cookie."),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const session = await post("/v1/session", { token: token.value.trim() });
      token.value = "";
      start(session);
    } catch (err) {
      clear(error, failure(err));
      token.select();
    }
  });
  clear(main, form);
  token.focus();
}

async function signOut() {
  try {
    await del("/v1/session");
  } catch {
    /* the session may have ended already */
  }
  location.hash = "#/";
  signedOut();
}

// Back to the sign-in page: the page's timers stop, the session's CSRF token is forgotten.
function signedOut(message) {
  stopPage();
  setCsrf(null);
  ctx = null;
  signInPage(message);
}

function start(session) {
  setCsrf(session.csrf);
  const principal = session.principal;
  ctx = {
    principal,
    openSql: async (text) => {
      const sql = await import("./sql.js");
      sql.setSql(text);
      location.hash = "#/sql";
    },
  };
  clear(
    nav,
    Object.entries(PAGES)
      .filter(([, page]) => page.roles.includes(principal.role))
      .map(([name, page]) => h("a", { href: `#/${name}`, dataset: { page: name } }, page.title)),
  );
  nav.hidden = false;
  clear(
    who,
    h("span", { class: "principal", title: `workgroup: ${principal.workgroup || "default"}` }, principal.name, h("small", {}, ` ${principal.role}`)),
    h("button", { type: "button", class: "link", onclick: signOut }, "Sign out"),
  );
  route();
}

async function route() {
  if (!ctx) return;
  const [name, ...args] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const pageName = PAGES[name] && PAGES[name].roles.includes(ctx.principal.role) ? name : home(ctx.principal);
  if (pageName !== name) {
    history.replaceState(null, "", `#/${pageName}`);
  }
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset.page === pageName) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${PAGES[pageName].title} · lakegate`;
  stopPage();
  const root = h("div", { class: `page page-${pageName}` });
  clear(main, root);
  try {
    const page = await PAGES[pageName].load();
    const left = await page.render(root, ctx, args.filter(Boolean));
    leave = typeof left === "function" ? left : null;
  } catch (err) {
    clear(root, failure(err));
  }
}

function stopPage() {
  if (leave) leave(); // its timers: nothing polls on behalf of someone signed out
  leave = null;
}

whenSignedOut(() => {
  if (ctx) signedOut({ code: "auth.invalid", message: "Your session ended. Sign in again." });
});
window.addEventListener("hashchange", route);

(async () => {
  try {
    const session = await get("/v1/session");
    if (session.principal) start(session);
    else signInPage();
  } catch (err) {
    signInPage(err);
  }
})();
