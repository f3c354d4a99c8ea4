// Order page (customers by JWT, guests by order_token), payment, live status and order history.

import { api, auth, guestOrders, mediaUrl, newIdempotencyKey } from "./api.js";
import { errorBox, h, money, mount, toast, when } from "./dom.js";
import { watchOrderStatus } from "./live.js";
import { mountStripePayment } from "./stripe.js";

const STATUS_LABELS = {
  pending_payment: "Awaiting payment",
  payment_processing: "Payment processing",
  paid: "Paid",
  shipped: "Shipped",
  delivered: "Delivered",
  cancelled: "Cancelled",
  refunded: "Refunded",
};

let stopWatching = null;

/** Called by the router on every navigation: an order page's socket lives only while it is shown. */
export function leaveOrderPage() {
  stopWatching?.();
  stopWatching = null;
}

function statusBadge(status) {
  return h("span", { class: `status status-${status}`, id: "order-status", dataset: { status } }, STATUS_LABELS[status] || status);
}

/** `#/orders/<id>` and `#/orders/<id>?order_token=<t>` (the links in order emails). */
export async function renderOrder(view, orderId, query) {
  leaveOrderPage();
  const urlToken = query.get("order_token");
  if (urlToken) guestOrders.remember(orderId, urlToken);
  // The order's secret when this browser has it (a guest order, even after logging in); else the
  // customer's own order by the JWT.
  const orderToken = urlToken || guestOrders.token(orderId);
  const read = () => api(`orders/${encodeURIComponent(orderId)}/`, { query: { order_token: orderToken } });

  mount(view, h("h1", {}, "Order"), h("p", { class: "muted" }, "Loading…"));
  if (!orderToken && !auth.loggedIn) {
    mount(view, h("h1", {}, "Order"), h("p", {}, "Log in to see this order, or open the link in your confirmation email. "), h("a", { href: `#/login?next=/orders/${orderId}` }, "Log in"));
    return;
  }
  let order;
  try {
    order = await read();
  } catch (error) {
    mount(view, h("h1", {}, "Order"), errorBox(error));
    return;
  }

  const statusSlot = h("p", { class: "order-status" });
  const paySlot = h("div", { id: "payment" });
  const eventsSlot = h("ol", { class: "events", id: "order-events" });
  const liveNote = h("p", { class: "muted", id: "live-note" });

  const refreshEvents = async () => {
    try {
      const events = await api(`orders/${orderId}/events/`, { query: { order_token: orderToken, page_size: 100 } });
      eventsSlot.replaceChildren(
        ...events.results.map((event) => h("li", {}, `${when(event.created_at)}: ${event.kind}${event.to_status ? ` → ${event.to_status}` : ""}${event.note ? ` (${event.note})` : ""}`)),
      );
    } catch (error) {
      eventsSlot.replaceChildren(h("li", {}, errorBox(error)));
    }
  };

  const showStatus = (status) => {
    order.status = status;
    statusSlot.replaceChildren("Status: ", statusBadge(status));
    paySlot.replaceChildren(status === "pending_payment" ? payButton() : "");
  };

  const payButton = () =>
    h(
      "button",
      {
        type: "button",
        id: "pay",
        onclick: async (event) => {
          event.target.disabled = true;
          try {
            const payment = await api("payments/", {
              method: "POST",
              body: orderToken ? { order_id: order.id, order_token: orderToken } : { order_id: order.id },
              idempotencyKey: newIdempotencyKey(),
            });
            await afterPayment(payment);
          } catch (error) {
            paySlot.append(errorBox(error));
            event.target.disabled = false;
          }
        },
      },
      `Pay ${money(order.total, order.currency)}`,
    );

  const afterPayment = async (payment) => {
    if (payment.status === "succeeded") {
      toast("Payment received. Thank you!");
      order = await read();
      showStatus(order.status);
      await refreshEvents();
      return;
    }
    if (payment.provider === "stripe" && payment.client_secret) {
      if (await mountStripePayment(paySlot, payment)) return;
      paySlot.replaceChildren(
        h("p", { class: "warn", id: "stripe-unsupported" }, "This shop takes card payments with Stripe but publishes no publishable key (STRIPE_PUBLISHABLE_KEY), so the card form cannot be shown."),
      );
      return;
    }
    paySlot.replaceChildren(h("p", {}, `Payment ${payment.status}.`));
  };

  mount(
    view,
    h("h1", {}, `Order ${order.number}`),
    statusSlot,
    liveNote,
    paySlot,
    h(
      "table",
      { class: "lines", id: "order-lines" },
      order.lines.map((line) =>
        h(
          "tr",
          {},
          h(
            "td",
            { class: "item" },
            line.image ? h("img", { src: mediaUrl(line.image), alt: "" }) : null,
            line.product_slug ? h("a", { href: `#/p/${line.product_slug}` }, line.product_name) : line.product_name,
            h("small", {}, ` ${line.variant_name} · ${line.sku}`),
          ),
          h("td", {}, `${line.quantity} × ${money(line.unit_price, order.currency)}`),
          h("td", {}, money(line.line_total, order.currency)),
        ),
      ),
    ),
    h(
      "table",
      { class: "totals" },
      [
        ["Subtotal", order.subtotal],
        [`Discount${order.coupon_code ? ` (${order.coupon_code})` : ""}`, `-${order.discount_total}`],
        [`Shipping (${order.shipping_method?.name || ""})`, order.shipping_total],
        ["Tax", order.tax_total],
        ["Total", order.total],
      ].map(([label, amount]) => h("tr", {}, h("th", {}, label), h("td", {}, money(amount, order.currency)))),
    ),
    h(
      "p",
      {},
      "Ship to: ",
      [order.shipping_address.first_name, order.shipping_address.last_name, order.shipping_address.line1, order.shipping_address.city, order.shipping_address.country].filter(Boolean).join(", "),
    ),
    order.tracking_number ? h("p", {}, `Tracking: ${order.carrier} ${order.tracking_number}`) : null,
    h("h2", {}, "Timeline"),
    eventsSlot,
  );
  showStatus(order.status);
  await refreshEvents();
  if (!view.isConnected) return; // the customer navigated away meanwhile

  stopWatching = watchOrderStatus({
    orderId,
    orderToken,
    onStatus: async (status) => {
      if (status === order.status) return;
      order = await read();
      showStatus(order.status);
      await refreshEvents();
    },
    onMode: (text) => {
      liveNote.textContent = text;
    },
    poll: async () => {
      const fresh = await read();
      if (fresh.status !== order.status) {
        order = fresh;
        showStatus(order.status);
        await refreshEvents();
      }
    },
  });
}

/** `#/orders`: the customer's history, newest first. */
export async function renderOrderHistory(view) {
  leaveOrderPage();
  if (!auth.loggedIn) {
    const guest = Object.keys(guestOrders.all());
    mount(
      view,
      h("h1", {}, "Your orders"),
      h("p", {}, h("a", { href: "#/login?next=/orders" }, "Log in"), " to see your order history."),
      guest.length ? [h("h2", {}, "Orders placed in this browser"), h("ul", {}, guest.map((id) => h("li", {}, h("a", { href: `#/orders/${id}` }, id))))] : null,
    );
    return;
  }
  mount(view, h("h1", {}, "Your orders"), h("p", { class: "muted" }, "Loading…"));
  let page;
  try {
    page = await api("orders/", { query: { page_size: 50 } });
  } catch (error) {
    mount(view, h("h1", {}, "Your orders"), errorBox(error));
    return;
  }
  mount(
    view,
    h("h1", {}, "Your orders"),
    page.results.length
      ? h(
          "table",
          { class: "lines", id: "order-history" },
          h("tr", {}, h("th", {}, "Order"), h("th", {}, "Placed"), h("th", {}, "Status"), h("th", {}, "Total")),
          page.results.map((order) =>
            h(
              "tr",
              { dataset: { orderId: order.id } },
              h("td", {}, h("a", { href: `#/orders/${order.id}` }, order.number)),
              h("td", {}, when(order.created_at)),
              h("td", {}, h("span", { class: `status status-${order.status}`, dataset: { status: order.status } }, STATUS_LABELS[order.status] || order.status)),
              h("td", {}, money(order.total, order.currency)),
            ),
          ),
        )
      : h("p", { id: "no-orders" }, "No orders yet."),
  );
}
