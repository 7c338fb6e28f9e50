// JSON over HTTP to the app's own endpoints (feedback, reports, files), with the CSRF token.

/** The CSRF token the app's own endpoints want in X-CSRFToken. */
export function csrfToken() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  return document.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

/**
 * Sends a request and reads its JSON answer; never throws.
 * @param {"GET"|"POST"|"DELETE"} method
 * @param {string} url
 * @param {Object} [body]
 * @returns {Promise<{ok: boolean, status: number, data: Object|null}>}
 */
export async function api(method, url, body) {
  const headers = { "X-CSRFToken": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  try {
    const response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    return { ok: response.ok, status: response.status, data };
  } catch {
    return { ok: false, status: 0, data: null };
  }
}

/** What went wrong with a request, in words fit for the page. */
export function problemText(result) {
  if (result.status === 0) return "No connection: try again.";
  const fields = result.data?.fields;
  if (fields) return Object.values(fields).flat().join(" ");
  return result.data?.message || "That did not work: try again.";
}
