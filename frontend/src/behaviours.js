// Small page behaviours, delegated from document so they also work on
// content htmx swaps in:
//   data-confirm="MESSAGE"      on a form, its submit button, a link or a
//                               button: asks before submitting / following.
//   data-copy-target="SELECTOR" on a button: copies the target's value (or
//                               text) to the clipboard, shows "Copied" for 2 s.
//   select[data-tenant-switch]  goes to the selected option's value (a URL).
//   data-autosubmit             on a select, checkbox or radio: submits its
//                               form on change.
//   data-swap-errors            on an htmx element: a 4xx answer is swapped in
//                               like a 200 (its body says what went wrong).
//   details[data-remember][id]  keeps what a person opened or closed when htmx
//                               swaps the same details in again (live pages).
//   data-dialog="ID"            on a link or button: opens <dialog id="ID"> as a
//                               modal instead (a link's page is what a browser
//                               without script gets). A submit button with
//                               formmethod="dialog" closes it, natively.

function isSubmitButton(el) {
  if (!el.form) return false;
  if (el.tagName === "BUTTON") return (el.getAttribute("type") || "submit").toLowerCase() === "submit";
  return el.tagName === "INPUT" && ["submit", "image"].includes(el.type);
}

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

// details id -> open, as the person left it (only their clicks are remembered: the
// server's default applies to what they never touched).
const remembered = new Map();

function restoreDetails() {
  for (const [id, open] of remembered) {
    const details = document.getElementById(id);
    if (details instanceof HTMLDetailsElement && details.open !== open) details.open = open;
  }
}

/** Registers the document listeners for all the behaviours above. */
export function installBehaviours() {
  document.addEventListener("click", (event) => {
    const summary = event.target instanceof Element ? event.target.closest("summary") : null;
    const details = summary && summary.parentElement;
    if (details instanceof HTMLDetailsElement && details.id && details.hasAttribute("data-remember")) {
      if (!event.defaultPrevented) remembered.set(details.id, !details.open);
    }
  });
  for (const name of ["htmx:afterSettle", "htmx:oobAfterSwap", "htmx:load"]) {
    document.addEventListener(name, restoreDetails);
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

      const opener = target.closest("[data-dialog]");
      const dialog = opener && document.getElementById(opener.dataset.dialog);
      if (dialog instanceof HTMLDialogElement) {
        event.preventDefault();
        if (!dialog.open) dialog.showModal();
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

  // htmx leaves 4xx answers out of the page; these elements show the message.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    const elt = (event.detail.requestConfig && event.detail.requestConfig.elt) || event.target;
    if (status >= 400 && status < 500 && elt instanceof Element && elt.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

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
}
