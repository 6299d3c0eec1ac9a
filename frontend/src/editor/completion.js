// Autocompletion for the flow editor: the catalog (plugin types, their
// properties and the well-known keys, fetched once per page and URL from
// data-catalog-url) and the CodeMirror completion source built on it.

// ------------------------------------------------------------- catalog ----

const catalogCache = new Map();

export function loadCatalog(url) {
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

export function makeCompletionSource(catalogUrl) {
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
