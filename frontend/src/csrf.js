// CSRF token lookup, and the X-CSRFToken header on every htmx request.

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
export function getCsrfToken(form) {
  const fromForm = form && form.querySelector && form.querySelector('input[name="csrfmiddlewaretoken"]');
  if (fromForm && fromForm.value) return fromForm.value;
  const cookie = readCookie("csrftoken");
  if (cookie) return cookie;
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta && meta.content) return meta.content;
  const any = document.querySelector('input[name="csrfmiddlewaretoken"]');
  return any ? any.value : "";
}

/** Adds the CSRF token to the headers of every htmx request. */
export function installHtmxCsrfHeader() {
  document.addEventListener("htmx:configRequest", (event) => {
    const token = getCsrfToken(null);
    if (token) event.detail.headers["X-CSRFToken"] = token;
  });
}
