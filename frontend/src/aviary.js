// Aviary front-end bundle (built by frontend/build.mjs with esbuild into an
// IIFE at frontend/dist/aviary.js). This entry only wires the modules:
//
//   1. htmx 2 (exposed as window.htmx) + CSRF header on every htmx request
//      (csrf.js), and htmx's SSE extension (hx-ext="sse": the execution page
//      follows its execution's event stream).
//   2. The flow editor: CodeMirror 6 mounted on every [data-flow-editor]
//      (editor/mount.js, which documents the dataset contract; validation in
//      editor/lint.js, autocompletion in editor/completion.js).
//   3. Small behaviours: data-confirm, data-copy-target, data-tenant-switch,
//      data-autosubmit (behaviours.js).
//
// window.aviary = { editors: Map(element id -> EditorView), getContent(id),
//                   setContent(id, text), validateNow(id), getCsrfToken() }

import htmx from "htmx.org";
import "htmx-ext-sse";
import { getCsrfToken, installHtmxCsrfHeader } from "./csrf.js";
import { editors, getContent, setContent, validateNow } from "./editor/registry.js";
import { mountAll } from "./editor/mount.js";
import { installBehaviours } from "./behaviours.js";

window.htmx = htmx;

window.aviary = Object.assign(window.aviary || {}, {
  editors,
  getCsrfToken,
  getContent,
  setContent,
  validateNow,
});

installHtmxCsrfHeader();
installBehaviours();

document.addEventListener("htmx:load", (event) => mountAll(event.detail && event.detail.elt));

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => mountAll(document));
} else {
  mountAll(document);
}
