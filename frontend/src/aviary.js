// Aviary front-end bundle (built by frontend/build.mjs with esbuild into an
// IIFE at frontend/dist/aviary.js).
//
//   1. htmx 2 (exposed as window.htmx) + CSRF header on every htmx request.
//   2. The flow editor: CodeMirror 6 mounted on every [data-flow-editor].
//   3. Small behaviours: data-confirm, data-copy-target, data-tenant-switch,
//      data-autosubmit.
//
// Flow editor dataset contract (all optional except where noted):
//   data-flow-editor             marks the container (gets class "editor").
//   data-textarea-id="ID"        <textarea name="source"> holding the YAML; the
//                                editor starts with its value, hides it and
//                                writes every change back into it, so a plain
//                                form POST submits the YAML. Without it the
//                                container's own text is the initial document.
//   data-validate-url="URL"      POST document (Content-Type: application/x-yaml)
//                                -> JSON list [{index, flow, namespace,
//                                violations:[{path,message,line,column}],
//                                warnings:[...]}]; drives lint diagnostics.
//   data-catalog-url="URL"       GET JSON autocompletion catalog (fetched once
//                                per page and URL).
//   data-problems-id="ID"        <ul> filled with one <li> per problem.
//   data-readonly="true"         read-only editor.
//
// window.aviary = { editors: Map(element id -> EditorView), getContent(id),
//                   setContent(id, text), validateNow(id), getCsrfToken() }

import htmx from "htmx.org";
import { EditorState, Prec, StateEffect } from "@codemirror/state";
import {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  drawSelection,
  dropCursor,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  bracketMatching,
  foldGutter,
  foldKeymap,
  indentOnInput,
  syntaxHighlighting,
  defaultHighlightStyle,
} from "@codemirror/language";
import { yaml } from "@codemirror/lang-yaml";
import { linter, lintGutter, lintKeymap, forceLinting } from "@codemirror/lint";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";

window.htmx = htmx;

const editors = new Map();
const revalidate = StateEffect.define(); // forces a lint run without a doc change
window.aviary = Object.assign(window.aviary || {}, {
  editors,
  getCsrfToken,
  getContent(id) {
    const view = editors.get(id);
    return view ? view.state.doc.toString() : null;
  },
  setContent(id, text) {
    const view = editors.get(id);
    if (!view) return false;
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: String(text) } });
    return true;
  },
  validateNow(id) {
    const view = editors.get(id);
    if (!view) return false;
    view.dispatch({ effects: revalidate.of(null) });
    forceLinting(view);
    return true;
  },
});

// ---------------------------------------------------------------- CSRF ----

function readCookie(name) {
  for (const part of document.cookie ? document.cookie.split(";") : []) {
    const eq = part.indexOf("=");
    if (eq > -1 && part.slice(0, eq).trim() === name) {
      return decodeURIComponent(part.slice(eq + 1).trim());
    }
  }
  return "";
}

/** CSRF token: the form's csrfmiddlewaretoken input, the csrftoken cookie,
 * <meta name="csrf-token">, then any csrfmiddlewaretoken input on the page. */
function getCsrfToken(form) {
  const fromForm = form && form.querySelector && form.querySelector('input[name="csrfmiddlewaretoken"]');
  if (fromForm && fromForm.value) return fromForm.value;
  const cookie = readCookie("csrftoken");
  if (cookie) return cookie;
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) return meta.content;
  const any = document.querySelector('input[name="csrfmiddlewaretoken"]');
  return any ? any.value : "";
}

document.addEventListener("htmx:configRequest", (event) => {
  const token = getCsrfToken(null);
  if (token) event.detail.headers["X-CSRFToken"] = token;
});

// ------------------------------------------------------------- catalog ----

const catalogCache = new Map();

function loadCatalog(url) {
  if (!catalogCache.has(url)) {
    const promise = fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.json();
      })
      .then(normaliseCatalog)
      .catch((err) => {
        console.warn("aviary: could not load completion catalog", err);
        catalogCache.delete(url); // retry on next completion request
        return null;
      });
    catalogCache.set(url, promise);
  }
  return catalogCache.get(url);
}

function normaliseCatalog(raw) {
  const c = raw || {};
  const plugins = [];
  for (const group of ["tasks", "triggers", "conditions"]) {
    for (const p of c[group] || []) {
      if (p && p.type) plugins.push({ ...p, kind: p.kind || group.replace(/s$/, ""), group });
    }
  }
  const byType = new Map(plugins.map((p) => [p.type, p]));
  return {
    plugins,
    byType,
    flowKeys: c.flowKeys || [],
    taskKeys: c.taskKeys || [],
    triggerKeys: c.triggerKeys || null,
    inputKeys: c.inputKeys || null,
    inputTypes: c.inputTypes || [],
  };
}

// --------------------------------------------------------- completion ----
//
// Heuristic YAML context detection (no full parse; documents being edited are
// often invalid). For the cursor line we look at the text before the cursor:
//
//  * `type: <word>` (optionally `- type:`) -> a *type value*. The ancestor keys
//    are found by walking up and collecting each line whose indentation is
//    smaller than the last collected one (`inputs:` -> `- id: x` -> `type:`).
//    Under a top-level `inputs:` we offer inputTypes, otherwise every
//    task/trigger/condition type, boosted by the enclosing section
//    (tasks/triggers/conditions).
//  * only indentation, an optional `- ` and a partial word -> a *mapping key*.
//    Indent 0 -> flowKeys. Otherwise the sibling keys of the same mapping are
//    the lines whose key starts at the same column, scanning up to the line
//    that opened the list item (`- ...`) or any shallower line, and down to the
//    next shallower line or next item. If a sibling is `type: X` and X is in
//    the catalog we offer X's properties (required ones first, "required" in
//    detail) + taskKeys (triggerKeys for triggers when the catalog has them);
//    if we are in a list item under tasks/errors/finally/triggers without a
//    type yet, taskKeys. Keys already present are not offered.
//  * Nothing is offered when the typed word already equals an option exactly,
//    so Enter after a fully typed word still inserts a newline.

const KEY_LINE = /^(\s*)(-\s+)?([A-Za-z_$][\w.$-]*)\s*:(?:\s|$)/;
const TASK_LIST_KEYS = new Set(["tasks", "errors", "finally", "afterExecution", "triggers"]);

function lineInfo(text) {
  if (!text.trim() || /^\s*#/.test(text)) return null; // blank / comment
  const indent = text.match(/^\s*/)[0].length;
  const m = KEY_LINE.exec(text);
  if (!m) return { indent, keyIndent: indent, key: null, dash: /^\s*-(\s|$)/.test(text), value: "" };
  const dash = !!m[2];
  return {
    indent,
    keyIndent: m[1].length + (m[2] ? m[2].length : 0),
    key: m[3],
    dash,
    value: text.slice(m[0].length).trim(),
  };
}

/** Keys of enclosing mappings, innermost first. */
function ancestorKeys(doc, lineNo, indent) {
  const keys = [];
  let limit = indent;
  for (let n = lineNo - 1; n >= 1 && limit > 0; n--) {
    const info = lineInfo(doc.line(n).text);
    if (!info) continue;
    if (info.dash && info.indent < limit && info.keyIndent >= limit) {
      limit = info.indent; // opening line of the list item we are in
      continue;
    }
    if (info.indent < limit) {
      if (info.key) keys.push(info.key);
      limit = info.indent;
    }
  }
  return keys;
}

/** Sibling lines (key infos) of the mapping whose keys start at keyIndent. */
function siblingKeys(doc, lineNo, keyIndent, currentIsItemStart) {
  const found = [];
  let itemStart = currentIsItemStart;
  if (!currentIsItemStart) {
    for (let n = lineNo - 1; n >= 1; n--) {
      const info = lineInfo(doc.line(n).text);
      if (!info) continue;
      if (info.keyIndent === keyIndent && info.key) found.push(info);
      if (info.dash && info.keyIndent === keyIndent) {
        itemStart = true;
        break;
      }
      if (info.indent < keyIndent) break;
    }
  }
  for (let n = lineNo + 1; n <= doc.lines; n++) {
    const info = lineInfo(doc.line(n).text);
    if (!info) continue;
    if (info.indent < keyIndent) break; // shallower line or the next "- " item
    if (info.keyIndent === keyIndent && info.key) found.push(info);
  }
  return { siblings: found, inItem: itemStart };
}

function stripQuotes(s) {
  return s.replace(/^["']|["']$/g, "").trim();
}

function exactlyMatches(options, word) {
  return word.length > 0 && options.some((o) => o.label === word);
}

function makeCompletionSource(catalogUrl) {
  return async (context) => {
    const { state, pos } = context;
    const line = state.doc.lineAt(pos);
    const before = line.text.slice(0, pos - line.from);

    const typeMatch = /^(\s*)(-\s+)?type:\s*([\w.$-]*)$/.exec(before);
    const keyMatch = typeMatch ? null : /^(\s*)(-\s+)?([\w$-]*)$/.exec(before);
    if (!typeMatch && !keyMatch) return null;
    if (keyMatch && !keyMatch[3] && !context.explicit) return null;

    const catalog = await loadCatalog(catalogUrl);
    if (!catalog || context.aborted) return null;

    if (typeMatch) {
      const word = typeMatch[3];
      const keyIndent = typeMatch[1].length + (typeMatch[2] ? typeMatch[2].length : 0);
      const ancestors = ancestorKeys(state.doc, line.number, keyIndent);
      const section = ancestors[ancestors.length - 1];
      let options;
      if (section === "inputs" && ancestors.length === 1) {
        options = catalog.inputTypes.map((t) => ({ label: t, type: "enum", detail: "input type" }));
      } else {
        const nearest = ancestors.find((k) => k === "conditions" || TASK_LIST_KEYS.has(k)) || "";
        const preferred = nearest === "conditions" ? "conditions" : nearest === "triggers" ? "triggers" : "tasks";
        options = catalog.plugins.map((p) => ({
          label: p.type,
          type: "class",
          detail: p.kind,
          info: p.description || undefined,
          boost: p.group === preferred ? 5 : 0,
        }));
      }
      if (exactlyMatches(options, word)) return null;
      return { from: pos - word.length, options };
    }

    const word = keyMatch[3];
    const keyIndent = keyMatch[1].length + (keyMatch[2] ? keyMatch[2].length : 0);
    const keyOption = (label, extra) => ({ label, apply: `${label}: `, type: "property", ...extra });
    let options = [];
    if (keyIndent === 0) {
      options = catalog.flowKeys.map((k) => keyOption(k, { detail: "flow" }));
    } else {
      const { siblings, inItem } = siblingKeys(state.doc, line.number, keyIndent, !!keyMatch[2]);
      const present = new Set(siblings.map((s) => s.key));
      const typeLine = siblings.find((s) => s.key === "type");
      const plugin = typeLine ? catalog.byType.get(stripQuotes(typeLine.value)) : null;
      const ancestors = ancestorKeys(state.doc, line.number, keyIndent);
      if (plugin) {
        for (const [name, prop] of Object.entries(plugin.properties || {})) {
          const p = prop || {};
          const detail = [p.type, p.required ? "required" : ""].filter(Boolean).join(" · ");
          options.push(keyOption(name, { detail, info: p.description || undefined, boost: p.required ? 10 : 5 }));
        }
        const common = plugin.group === "triggers" && catalog.triggerKeys ? catalog.triggerKeys : catalog.taskKeys;
        for (const k of common) {
          if (!(k in (plugin.properties || {}))) options.push(keyOption(k, { detail: plugin.kind + " key" }));
        }
      } else if (inItem && ancestors[0] === "inputs" && ancestors.length === 1 && catalog.inputKeys) {
        options = catalog.inputKeys.map((k) => keyOption(k, { detail: "input key" }));
      } else if (inItem && TASK_LIST_KEYS.has(ancestors[0])) {
        const keys = ancestors[0] === "triggers" && catalog.triggerKeys ? catalog.triggerKeys : catalog.taskKeys;
        options = keys.map((k) => keyOption(k, { detail: "task key" }));
      }
      options = options.filter((o) => !present.has(o.label));
    }
    if (!options.length || exactlyMatches(options, word)) return null;
    return { from: pos - word.length, options };
  };
}

// ----------------------------------------------------------- problems ----

function renderProblems(list, problems, view, note) {
  if (!list) return;
  list.replaceChildren();
  list.removeAttribute("aria-busy");
  if (note) {
    const li = document.createElement("li");
    li.className = "problem-unavailable";
    li.textContent = note;
    list.append(li);
    list.dataset.state = "unavailable";
    list.hidden = false;
    return;
  }
  if (!problems.length) {
    const li = document.createElement("li");
    li.className = "problem-none";
    li.textContent = "No problems";
    list.append(li);
    list.dataset.state = "valid";
    list.hidden = false;
    return;
  }
  list.dataset.state = problems.some((p) => p.severity === "error") ? "invalid" : "warnings";
  list.hidden = false;
  for (const p of problems) {
    const li = document.createElement("li");
    li.className = p.severity === "error" ? "problem-error" : "problem-warning";
    const where = p.line ? `Line ${p.line}: ` : "";
    li.textContent = where + (p.path ? `${p.path}: ` : "") + p.message;
    if (p.line) {
      li.dataset.line = String(p.line);
      li.tabIndex = 0;
      li.title = `Go to line ${p.line}`;
      const go = () => gotoLine(view, p.line);
      li.addEventListener("click", go);
      li.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          go();
        }
      });
    }
    list.append(li);
  }
}

function gotoLine(view, lineNo) {
  const n = Math.min(Math.max(1, lineNo), view.state.doc.lines);
  const line = view.state.doc.line(n);
  const anchor = line.from + (line.text.length - line.text.trimStart().length);
  view.dispatch({ selection: { anchor }, scrollIntoView: true });
  view.focus();
}

function toDiagnostic(doc, problem) {
  const n = Number(problem.line) > 0 ? Math.min(Number(problem.line), doc.lines) : 1;
  const line = doc.line(n);
  const from = line.from + (line.text.length - line.text.trimStart().length);
  return {
    from,
    to: Math.max(from, line.to),
    severity: problem.severity,
    source: "aviary",
    message: (problem.path ? `${problem.path}: ` : "") + problem.message,
  };
}

/** Accept the documented list, but also {results:[...]} or a single result. */
function resultsOf(json) {
  if (Array.isArray(json)) return json;
  if (json && Array.isArray(json.results)) return json.results;
  if (json && (json.violations || json.warnings)) return [json];
  throw new Error("unexpected response");
}

function makeLintSource({ validateUrl, form, problemsList }) {
  let inflight = null;
  return async (view) => {
    const doc = view.state.doc;
    if (inflight) inflight.abort();
    const controller = (inflight = new AbortController());
    if (problemsList) problemsList.setAttribute("aria-busy", "true");
    let results;
    try {
      const response = await fetch(validateUrl, {
        method: "POST",
        body: doc.toString(),
        credentials: "same-origin",
        signal: controller.signal,
        headers: {
          "Content-Type": "application/x-yaml",
          "X-CSRFToken": getCsrfToken(form),
          Accept: "application/json",
        },
      });
      let json = null;
      try {
        json = await response.json();
      } catch (_) {
        throw new Error(`HTTP ${response.status}`);
      }
      if (!response.ok && !Array.isArray(json)) throw new Error(`HTTP ${response.status}`);
      results = resultsOf(json);
    } catch (err) {
      if (controller.signal.aborted || view.state.doc !== doc) return [];
      renderProblems(problemsList, [], view, `Could not validate: ${err && err.message ? err.message : err}`);
      return [];
    } finally {
      if (inflight === controller) inflight = null;
    }
    if (view.state.doc !== doc) return []; // stale: linter discards it too

    const problems = [];
    for (const r of results) {
      for (const v of (r && r.violations) || []) problems.push({ ...v, severity: "error" });
      for (const w of (r && r.warnings) || []) problems.push({ ...w, severity: "warning" });
    }
    problems.sort((a, b) => (a.line || 0) - (b.line || 0));
    renderProblems(problemsList, problems, view, null);
    view.dom.dispatchEvent(new CustomEvent("aviary:validated", { bubbles: true, detail: { results, problems } }));
    return problems.map((p) => toDiagnostic(doc, p));
  };
}

// -------------------------------------------------------------- editor ----

const editorTheme = EditorView.theme({
  "&": { fontSize: "13px", backgroundColor: "#fff" },
  ".cm-scroller": {
    fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace",
    lineHeight: "1.5",
  },
  ".cm-content, .cm-gutter": { minHeight: "420px" },
  "&.cm-focused": { outline: "none" },
  ".cm-gutters": { backgroundColor: "#f7f7fa", borderRight: "1px solid #e3e3ea", color: "#8a8aa0" },
  ".cm-activeLine": { backgroundColor: "#8405ff0d" },
  ".cm-activeLineGutter": { backgroundColor: "#8405ff1a" },
});

let editorCounter = 0;

function mountFlowEditor(el) {
  if (el.dataset.editorMounted === "true") return;
  el.dataset.editorMounted = "true";
  if (!el.id) el.id = `flow-editor-${++editorCounter}`;
  el.classList.add("editor");

  const ds = el.dataset;
  const textarea = ds.textareaId ? document.getElementById(ds.textareaId) : null;
  const form = (textarea && textarea.form) || el.closest("form");
  const readOnly = ds.readonly === "true";
  const problemsList = ds.problemsId ? document.getElementById(ds.problemsId) : null;
  if (problemsList && !problemsList.getAttribute("role") && !problemsList.getAttribute("aria-live")) {
    problemsList.setAttribute("aria-live", "polite");
  }

  let initial = "";
  if (textarea) {
    initial = textarea.value;
    textarea.hidden = true;
    textarea.style.display = "none";
    textarea.removeAttribute("required"); // a hidden required field blocks submit
  } else {
    initial = el.textContent.replace(/^\n/, "");
    el.textContent = "";
  }

  const sync = (state) => {
    if (textarea) textarea.value = state.doc.toString();
  };
  const submitForm = () => {
    if (!form || readOnly) return true;
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.submit();
    return true;
  };

  const extensions = [
    Prec.highest(keymap.of([{ key: "Mod-s", run: submitForm, preventDefault: true }])),
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    foldGutter(),
    drawSelection(),
    dropCursor(),
    indentOnInput(),
    syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
    bracketMatching(),
    closeBrackets(),
    highlightActiveLine(),
    yaml(),
    lintGutter(),
    keymap.of([
      ...closeBracketsKeymap,
      ...defaultKeymap,
      ...historyKeymap,
      ...foldKeymap,
      ...completionKeymap,
      ...lintKeymap,
      indentWithTab,
    ]),
    EditorView.contentAttributes.of({ "aria-label": "Source" }),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) sync(update.state);
    }),
    editorTheme,
  ];
  if (readOnly) {
    extensions.push(EditorState.readOnly.of(true), EditorView.contentAttributes.of({ "aria-readonly": "true" }));
  }
  if (ds.validateUrl) {
    extensions.push(
      linter(makeLintSource({ validateUrl: ds.validateUrl, form, problemsList }), {
        delay: 300,
        needsRefresh: (update) => update.transactions.some((tr) => tr.effects.some((e) => e.is(revalidate))),
      }),
    );
  }
  if (ds.catalogUrl) {
    extensions.push(autocompletion({ override: [makeCompletionSource(ds.catalogUrl)], icons: true }));
    loadCatalog(ds.catalogUrl); // prefetch once per page
  }

  const view = new EditorView({ state: EditorState.create({ doc: initial, extensions }), parent: el });
  if (form && textarea) form.addEventListener("submit", () => sync(view.state), true);
  editors.set(el.id, view);
  el.cmView = view;
  el.dataset.editorReady = "true";
  return view;
}

function mountAll(root) {
  const scope = root && root.querySelectorAll ? root : document;
  if (scope.matches && scope.matches("[data-flow-editor]")) mountFlowEditor(scope);
  scope.querySelectorAll("[data-flow-editor]").forEach((el) => {
    try {
      mountFlowEditor(el);
    } catch (err) {
      console.error("aviary: could not mount flow editor", err);
    }
  });
}

// ---------------------------------------------------- small behaviours ----

function isSubmitButton(el) {
  if (!el.form) return false;
  if (el.tagName === "BUTTON") return (el.getAttribute("type") || "submit").toLowerCase() === "submit";
  return el.tagName === "INPUT" && ["submit", "image"].includes(el.type);
}

// data-confirm on a form or on its submit button: asked in the submit event.
document.addEventListener(
  "submit",
  (event) => {
    const form = event.target;
    const submitter = event.submitter;
    const message =
      (submitter && submitter.dataset && submitter.dataset.confirm) || (form.dataset && form.dataset.confirm);
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  },
  true,
);

document.addEventListener(
  "click",
  (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;

    // data-confirm on links / non-submit buttons.
    const confirmEl = target.closest("a[data-confirm], button[data-confirm], input[data-confirm]");
    if (confirmEl && !isSubmitButton(confirmEl) && !window.confirm(confirmEl.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }

    const copyBtn = target.closest("[data-copy-target]");
    if (copyBtn) {
      event.preventDefault();
      copyFrom(copyBtn);
    }
  },
  true,
);

async function copyFrom(button) {
  const source = document.querySelector(button.dataset.copyTarget);
  if (!source) return;
  const text = "value" in source && typeof source.value === "string" ? source.value : source.textContent.trim();
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch (_) {
    const tmp = document.createElement("textarea");
    tmp.value = text;
    tmp.setAttribute("readonly", "");
    tmp.style.cssText = "position:fixed;top:-1000px;opacity:0";
    document.body.append(tmp);
    tmp.select();
    try {
      ok = document.execCommand("copy");
    } catch (_) {
      ok = false;
    }
    tmp.remove();
  }
  if (!ok) return;
  if (button.dataset.copyOriginal === undefined) button.dataset.copyOriginal = button.innerHTML;
  clearTimeout(button._aviaryCopyTimer);
  button.textContent = "Copied";
  button._aviaryCopyTimer = setTimeout(() => {
    button.innerHTML = button.dataset.copyOriginal;
    delete button.dataset.copyOriginal;
  }, 2000);
}

document.addEventListener("change", (event) => {
  const el = event.target;
  if (!(el instanceof Element)) return;
  if (el.matches("select[data-tenant-switch]")) {
    if (el.value) window.location.assign(el.value);
    return;
  }
  if (el.matches("[data-autosubmit]") && el.form) {
    // selects, checkboxes and radios submit on change; text-like inputs are
    // left alone and submit on Enter (browser default).
    const auto = el.tagName === "SELECT" || (el.tagName === "INPUT" && ["checkbox", "radio"].includes(el.type));
    if (!auto) return;
    if (typeof el.form.requestSubmit === "function") el.form.requestSubmit();
    else el.form.submit();
  }
});

// ----------------------------------------------------------------- init ----

document.addEventListener("htmx:load", (event) => mountAll(event.detail && event.detail.elt));

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => mountAll(document));
} else {
  mountAll(document);
}
