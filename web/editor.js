// The console's one third-party bundle: CodeMirror 6 with SQL, completion and lint markers.
// Built by `npm run build` into src/lakegate/server/console/vendor/codemirror.js (committed).
export { EditorView, keymap, placeholder } from "@codemirror/view";
export { EditorState, Compartment, Prec } from "@codemirror/state";
export { basicSetup } from "codemirror";
export { sql, PostgreSQL, StandardSQL } from "@codemirror/lang-sql";
export { setDiagnostics } from "@codemirror/lint";
export { acceptCompletion, startCompletion } from "@codemirror/autocomplete";
