// The mounted flow editors (element id -> EditorView) and the operations on
// them that window.aviary exposes.

import { StateEffect } from "@codemirror/state";
import { forceLinting } from "@codemirror/lint";

export const editors = new Map();

/** Forces a lint run without a doc change (see the linter's needsRefresh). */
export const revalidate = StateEffect.define();

export function getContent(id) {
  const view = editors.get(id);
  return view ? view.state.doc.toString() : null;
}

export function setContent(id, text) {
  const view = editors.get(id);
  if (!view) return false;
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: String(text) } });
  return true;
}

export function validateNow(id) {
  const view = editors.get(id);
  if (!view) return false;
  view.dispatch({ effects: revalidate.of(null) });
  forceLinting(view);
  return true;
}
