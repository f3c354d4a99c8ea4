// The cart: anonymous via X-Cart-Token (kept in localStorage by api.js), merged into the customer's
// cart by the API on the first cart call after login. Coupon, destination and shipping method.

import { api, auth, cartToken, mediaUrl } from "./api.js";
import { errorBox, h, money, mount } from "./dom.js";

export const COUNTRIES = [
  ["US", "United States"],
  ["CA", "Canada"],
  ["GB", "United Kingdom"],
  ["DE", "Germany"],
  ["FR", "France"],
  ["NL", "Netherlands"],
  ["ES", "Spain"],
  ["IT", "Italy"],
  ["AT", "Austria"],
  ["BE", "Belgium"],
  ["IE", "Ireland"],
  ["SE", "Sweden"],
  ["AU", "Australia"],
];

let current = null;

function showCount(cart) {
  current = cart;
  const badge = document.getElementById("cart-count");
  if (badge) badge.textContent = String(cart?.item_count || 0);
}

/** The caller's cart. Nothing is created: with no token and no login the API answers an empty cart. */
export async function loadCart() {
  if (!cartToken.get() && !auth.loggedIn) {
    showCount(null);
    return null;
  }
  let cart;
  try {
    cart = await api("cart/", { cart: true });
  } catch (error) {
    if (error.code !== "cart_not_found") throw error;
    cartToken.clear(); // expired or deleted anonymous cart: start a new one on the next add
    cart = null;
  }
  showCount(cart);
  return cart;
}

export async function addToCart(variantId, quantity) {
  const cart = await api("cart/items/", { method: "POST", body: { variant_id: variantId, quantity }, cart: true });
  showCount(cart);
  return cart;
}

export async function updateCart(changes) {
  const cart = await api("cart/", { method: "PATCH", body: changes, cart: true });
  showCount(cart);
  return cart;
}

export function cartSummary(cart) {
  const row = (label, amount, id) => h("tr", {}, h("th", {}, label), h("td", { id }, money(amount, cart.currency)));
  return h(
    "table",
    { class: "totals" },
    row("Subtotal", cart.subtotal, "cart-subtotal"),
    Number(cart.discount_total) ? row(`Discount${cart.coupon_code ? ` (${cart.coupon_code})` : ""}`, `-${cart.discount_total}`, "cart-discount") : null,
    row("Shipping", cart.shipping_total, "cart-shipping"),
    row("Tax", cart.tax_total, "cart-tax"),
    h("tr", { class: "grand" }, h("th", {}, "Total"), h("td", { id: "cart-total" }, money(cart.total, cart.currency))),
  );
}

export async function renderCart(view) {
  mount(view, h("h1", {}, "Your cart"), h("p", { class: "muted" }, "Loading…"));
  let cart;
  try {
    cart = await loadCart();
  } catch (error) {
    mount(view, h("h1", {}, "Your cart"), errorBox(error));
    return;
  }
  if (!cart || !cart.items.length) {
    mount(view, h("h1", {}, "Your cart"), h("p", { id: "cart-empty" }, "Your cart is empty. ", h("a", { href: "#/" }, "Keep shopping")));
    return;
  }
  const problems = h("div", { id: "cart-problems" });
  const rerender = () => renderCart(view);
  const attempt = async (action) => {
    problems.replaceChildren();
    try {
      await action();
      await rerender();
    } catch (error) {
      problems.replaceChildren(errorBox(error));
    }
  };

  const lines = h(
    "table",
    { class: "lines", id: "cart-lines" },
    h("tr", {}, h("th", {}, "Item"), h("th", {}, "Price"), h("th", {}, "Quantity"), h("th", {}, "Total"), h("th", {})),
    cart.items.map((item) =>
      h(
        "tr",
        { dataset: { sku: item.variant.sku } },
        h(
          "td",
          { class: "item" },
          item.product.image ? h("img", { src: mediaUrl(item.product.image), alt: "" }) : null,
          h("a", { href: `#/p/${item.product.slug}` }, item.product.name),
          h("small", {}, ` ${item.variant.name}`),
          item.price_changed ? h("p", { class: "warn" }, `Price changed from ${money(item.previous_unit_price, cart.currency)}`) : null,
          item.insufficient_stock ? h("p", { class: "warn" }, `Only ${item.available_quantity} left`) : null,
          item.is_available ? null : h("p", { class: "warn" }, "No longer available"),
        ),
        h("td", {}, money(item.unit_price, cart.currency)),
        h(
          "td",
          {},
          h("input", {
            type: "number",
            min: "1",
            value: String(item.quantity),
            class: "line-quantity",
            onchange: (event) =>
              attempt(() => api(`cart/items/${item.id}/`, { method: "PATCH", body: { quantity: Number(event.target.value) }, cart: true })),
          }),
        ),
        h("td", {}, money(item.line_total, cart.currency)),
        h("td", {}, h("button", { type: "button", class: "link", onclick: () => attempt(() => api(`cart/items/${item.id}/`, { method: "DELETE", cart: true })) }, "Remove")),
      ),
    ),
  );

  const couponForm = h(
    "form",
    {
      id: "coupon-form",
      onsubmit: (event) => {
        event.preventDefault();
        const code = new FormData(event.target).get("code").trim();
        if (code) attempt(() => api("cart/coupon/", { method: "POST", body: { code }, cart: true }));
      },
    },
    h("label", {}, "Coupon ", h("input", { name: "code", id: "coupon-code", autocomplete: "off", value: cart.coupon_code || "" })),
    h("button", { type: "submit" }, "Apply"),
    cart.coupon_code
      ? h("button", { type: "button", class: "link", id: "coupon-remove", onclick: () => attempt(() => api("cart/coupon/", { method: "DELETE", cart: true })) }, "Remove")
      : null,
    cart.coupon_issue ? h("p", { class: "warn", id: "coupon-issue" }, `The coupon gives nothing right now (${cart.coupon_issue}).`) : null,
  );

  const shipping = h("section", { class: "shipping", id: "shipping" }, h("h2", {}, "Shipping"));
  const countrySelect = h(
    "select",
    {
      id: "shipping-country",
      onchange: (event) => attempt(() => updateCart({ country: event.target.value || null })),
    },
    h("option", { value: "" }, "Choose a country"),
    COUNTRIES.map(([code, name]) => h("option", { value: code, selected: cart.shipping_country === code }, name)),
  );
  shipping.append(h("label", {}, "Ship to ", countrySelect));
  if (cart.shipping_country) {
    try {
      const methods = await api("shipping/methods/", { query: { country: cart.shipping_country }, cart: true });
      shipping.append(
        methods.results.length
          ? h(
              "div",
              { id: "shipping-methods" },
              methods.results.map((method) =>
                h(
                  "label",
                  { class: "method" },
                  h("input", {
                    type: "radio",
                    name: "shipping_method",
                    value: method.id,
                    checked: cart.shipping_method?.id === method.id,
                    onchange: () => attempt(() => updateCart({ shipping_method_id: method.id })),
                  }),
                  ` ${method.name}: ${money(method.price, method.currency)} (${method.min_delivery_days}–${method.max_delivery_days} days)`,
                  method.free_over ? h("small", {}, ` free over ${money(method.free_over, method.currency)}`) : null,
                ),
              ),
            )
          : h("p", { class: "warn" }, "We do not ship to this country yet."),
      );
    } catch (error) {
      shipping.append(errorBox(error));
    }
  }
  if (cart.shipping_issue) shipping.append(h("p", { class: "warn" }, "The chosen shipping method is no longer available; pick another."));

  const canCheckout = Boolean(cart.shipping_method && !cart.shipping_issue);
  mount(
    view,
    h("h1", {}, "Your cart"),
    lines,
    problems,
    h(
      "div",
      { class: "cart-bottom" },
      h("div", {}, couponForm, shipping),
      h(
        "div",
        {},
        cartSummary(cart),
        canCheckout
          ? h("a", { class: "button", href: "#/checkout", id: "to-checkout" }, "Checkout")
          : h("p", { class: "muted" }, "Choose where to ship to continue."),
      ),
    ),
  );
}
