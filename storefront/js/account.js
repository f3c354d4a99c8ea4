// Login and registration with email and password. Tokens stay in memory and sessionStorage (gone
// with the tab), never in localStorage; the refresh token is used once and rotated (api.js).

import { api, auth } from "./api.js";
import { loadCart } from "./cart.js";
import { errorBox, formData, h, mount } from "./dom.js";

function nextRoute(query) {
  const next = query.get("next") || "/";
  return next.startsWith("/") ? `#${next}` : "#/"; // only routes of this page
}

export function renderLogin(view, query) {
  const problems = h("div", { id: "login-problems" });
  const form = h(
    "form",
    {
      id: "login-form",
      class: "narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        problems.replaceChildren();
        try {
          auth.set(await api("authentication/login/", { method: "POST", body: formData(form) }));
          await loadCart(); // sends the anonymous cart token once more: the API merges it
          window.location.hash = nextRoute(query);
        } catch (error) {
          problems.replaceChildren(errorBox(error));
        }
      },
    },
    h("label", {}, "Email ", h("input", { name: "email", type: "email", required: true, autocomplete: "username" })),
    h("label", {}, "Password ", h("input", { name: "password", type: "password", required: true, autocomplete: "current-password" })),
    h("button", { type: "submit" }, "Log in"),
  );
  mount(view, h("h1", {}, "Log in"), form, problems, h("p", {}, "New here? ", h("a", { href: `#/register?next=${encodeURIComponent(query.get("next") || "/")}` }, "Create an account")));
}

export function renderRegister(view, query) {
  const problems = h("div", { id: "register-problems" });
  const form = h(
    "form",
    {
      id: "register-form",
      class: "narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        problems.replaceChildren();
        try {
          const answer = await api("authentication/register/", { method: "POST", body: formData(form) });
          mount(
            view,
            h("h1", {}, "Check your inbox"),
            h("p", { id: "register-done" }, answer.detail),
            h("p", {}, "Once your address is verified, ", h("a", { href: `#/login?next=${encodeURIComponent(query.get("next") || "/")}` }, "log in"), "."),
          );
        } catch (error) {
          problems.replaceChildren(errorBox(error));
        }
      },
    },
    h("label", {}, "First name ", h("input", { name: "first_name", autocomplete: "given-name" })),
    h("label", {}, "Last name ", h("input", { name: "last_name", autocomplete: "family-name" })),
    h("label", {}, "Email ", h("input", { name: "email", type: "email", required: true, autocomplete: "email" })),
    h("label", {}, "Password ", h("input", { name: "password", type: "password", required: true, autocomplete: "new-password", minlength: "8" })),
    h("button", { type: "submit" }, "Create account"),
  );
  mount(view, h("h1", {}, "Create an account"), form, problems);
}

export async function logout() {
  const refresh = auth.refresh;
  if (refresh) {
    try {
      await api("authentication/logout/", { method: "POST", body: { refresh } });
    } catch (error) {
      console.warn("logout: the refresh token was not revoked", error);
    }
  }
  auth.clear();
  await loadCart();
  window.location.hash = "#/";
}
