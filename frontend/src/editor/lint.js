// Validation for the flow editor: a CodeMirror lint source that POSTs the
// document to data-validate-url, turns the violations and warnings into
// diagnostics and renders them into the problems list (data-problems-id).

import { getCsrfToken } from "../csrf.js";

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

// ---------------------------------------------------------- validation ----

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

export function makeLintSource({ validateUrl, form, problemsList }) {
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
