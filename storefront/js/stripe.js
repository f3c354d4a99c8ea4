// Card payments with Stripe Elements, only when the shop's gateway is Stripe and it publishes a
// publishable key (GET /api/v1/payments/config/). Stripe.js is loaded from js.stripe.com on demand,
// never on pages or shops that do not need it. The order turns paid when Stripe's webhook reaches
// the API; the order page's live status shows it, not the browser's word.

import { api } from "./api.js";
import { errorBox, h } from "./dom.js";

let stripeJs = null;

function loadStripeJs() {
  stripeJs ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "https://js.stripe.com/v3/";
    script.onload = () => resolve(window.Stripe);
    script.onerror = () => {
      stripeJs = null;
      reject(new Error("Stripe.js could not be loaded."));
    };
    document.head.append(script);
  });
  return stripeJs;
}

/** Mount the Payment Element for `payment` into `slot`; false when the shop publishes no key. */
export async function mountStripePayment(slot, payment) {
  const config = await api("/payments/config/");
  if (config.gateway !== "stripe" || !config.stripe_publishable_key) return false;
  const Stripe = await loadStripeJs();
  const stripe = Stripe(config.stripe_publishable_key);
  const elements = stripe.elements({ clientSecret: payment.client_secret });
  const form = h("div", { id: "stripe-payment" });
  const feedback = h("div", {});
  const confirm = h(
    "button",
    {
      class: "primary",
      id: "stripe-confirm",
      onclick: async () => {
        confirm.disabled = true;
        const { error } = await stripe.confirmPayment({
          elements,
          confirmParams: { return_url: window.location.href },
          redirect: "if_required",
        });
        if (error) {
          feedback.replaceChildren(errorBox(error));
          confirm.disabled = false;
          return;
        }
        feedback.replaceChildren(h("p", {}, "Payment submitted: this page updates when Stripe confirms it."));
      },
    },
    "Pay by card",
  );
  slot.replaceChildren(form, confirm, feedback);
  elements.create("payment").mount(form);
  return true;
}
