// Checkout: a customer's cart (Bearer) or a guest's anonymous cart (X-Cart-Token + email) becomes an
// order. The address's country and region are set on the cart first, so the total shown is the total
// the server computes; it is sent as expected_total (409 total_mismatch otherwise).

import { api, auth, guestOrders, newIdempotencyKey } from "./api.js";
import { COUNTRIES, cartSummary, loadCart, updateCart } from "./cart.js";
import { errorBox, formData, h, mount } from "./dom.js";

const ADDRESS_FIELDS = [
  ["first_name", "First name", true],
  ["last_name", "Last name", true],
  ["company", "Company", false],
  ["line1", "Address", true],
  ["line2", "Address (line 2)", false],
  ["city", "City", true],
  ["region", "State / region", false],
  ["postal_code", "Postal code", false],
  ["phone", "Phone (+country code)", false],
];

export async function renderCheckout(view) {
  mount(view, h("h1", {}, "Checkout"), h("p", { class: "muted" }, "Loading…"));
  let cart;
  try {
    cart = await loadCart();
  } catch (error) {
    mount(view, h("h1", {}, "Checkout"), errorBox(error));
    return;
  }
  if (!cart?.items?.length) {
    mount(view, h("h1", {}, "Checkout"), h("p", {}, "Your cart is empty. ", h("a", { href: "#/" }, "Keep shopping")));
    return;
  }
  if (!cart.shipping_method) {
    mount(view, h("h1", {}, "Checkout"), h("p", {}, "Choose a shipping method in ", h("a", { href: "#/cart" }, "your cart"), " first."));
    return;
  }

  const summary = h("div", { id: "checkout-summary" }, cartSummary(cart));
  const problems = h("div", { id: "checkout-problems" });
  let shownTotal = cart.total;
  // One key per attempt: a retry after a network failure replays the same order instead of a second one.
  let idempotencyKey = newIdempotencyKey();

  let destination = { country: cart.shipping_country, region: cart.shipping_region || "" };
  // Tax depends on country and region: price the cart for the typed address. Returns whether the
  // total on screen is still the server's (false: the new total is shown and the customer confirms).
  const destinationChanged = async (form) => {
    const values = formData(form);
    const wanted = { country: values.country, region: values.region || "" };
    if (wanted.country === destination.country && wanted.region === destination.region) return true;
    try {
      const updated = await updateCart({ ...wanted, shipping_method_id: cart.shipping_method.id });
      destination = wanted;
      const unchanged = updated.total === shownTotal;
      shownTotal = updated.total;
      summary.replaceChildren(cartSummary(updated));
      if (updated.shipping_issue) {
        problems.replaceChildren(errorBox({ message: "The shipping method does not serve this country; change it in your cart." }));
        return false;
      }
      problems.replaceChildren();
      return unchanged;
    } catch (error) {
      problems.replaceChildren(errorBox(error));
      return false;
    }
  };

  const user = auth.user;
  const form = h(
    "form",
    {
      id: "checkout-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const button = form.querySelector("button[type=submit]");
        button.disabled = true;
        problems.replaceChildren();
        if (!(await destinationChanged(form))) {
          if (!problems.childNodes.length) problems.replaceChildren(h("p", { class: "warn" }, "Your total was updated for this address. Check it and place the order."));
          button.disabled = false;
          return;
        }
        const values = formData(form);
        const address = Object.fromEntries(ADDRESS_FIELDS.map(([name]) => [name, values[name] || ""]));
        address.country = values.country;
        const body = { shipping_address: address, shipping_method_id: cart.shipping_method.id, expected_total: shownTotal };
        if (!auth.loggedIn) body.email = values.email;
        try {
          const order = await api("orders/", { method: "POST", body, cart: true, idempotencyKey });
          if (order.order_token) guestOrders.remember(order.id, order.order_token);
          await loadCart();
          window.location.hash = `#/orders/${order.id}`;
        } catch (error) {
          if (error.status !== 0) idempotencyKey = newIdempotencyKey(); // a refusal: the next try is a new attempt
          problems.replaceChildren(errorBox(error));
          if (error.code === "total_mismatch") {
            const fresh = await loadCart();
            shownTotal = fresh.total;
            summary.replaceChildren(cartSummary(fresh));
          }
          button.disabled = false;
        }
      },
    },
    auth.loggedIn
      ? h("p", {}, `Ordering as ${user.email}.`)
      : h(
          "fieldset",
          {},
          h("legend", {}, "Contact"),
          h("p", { class: "muted" }, "Checking out as a guest. ", h("a", { href: "#/login?next=/checkout" }, "Log in"), " to see the order in your history."),
          h("label", {}, "Email ", h("input", { name: "email", type: "email", required: true, autocomplete: "email" })),
        ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Shipping address"),
      ADDRESS_FIELDS.map(([name, label, required]) =>
        h(
          "label",
          {},
          `${label} `,
          h("input", {
            name,
            required,
            value: name === "first_name" ? user?.first_name || "" : name === "last_name" ? user?.last_name || "" : "",
            onchange: name === "region" ? () => destinationChanged(form) : undefined,
          }),
        ),
      ),
      h(
        "label",
        {},
        "Country ",
        h(
          "select",
          { name: "country", required: true, onchange: () => destinationChanged(form) },
          COUNTRIES.map(([code, name]) => h("option", { value: code, selected: cart.shipping_country === code }, name)),
        ),
      ),
    ),
    h("p", {}, `Shipping: ${cart.shipping_method.name}. `, h("a", { href: "#/cart" }, "Change")),
    h("button", { type: "submit", id: "place-order" }, "Place order"),
  );

  mount(view, h("h1", {}, "Checkout"), h("div", { class: "checkout" }, form, h("div", {}, summary, problems)));
}
