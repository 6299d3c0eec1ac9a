// The flow editor: CodeMirror 6 mounted on every [data-flow-editor].
//
// Dataset contract (all optional except where noted):
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

import { EditorState, Prec } from "@codemirror/state";
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
import { linter, lintGutter, lintKeymap } from "@codemirror/lint";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";

import { editors, revalidate } from "./registry.js";
import { makeLintSource } from "./lint.js";
import { loadCatalog, makeCompletionSource } from "./completion.js";

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

/** Mounts every [data-flow-editor] in root (or root itself); mounts once. */
export function mountAll(root) {
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
