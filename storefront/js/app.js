// Hash routing: the page is one file, so any route works on reload and in email links
// (/storefront/#/orders/<id>?order_token=<t>).
//
//   #/                      all products          #/cart                 the cart
//   #/c/<category slug>     a category            #/checkout             guest or customer checkout
//   #/search?q=             search results        #/orders, #/orders/<id>[?order_token=]
//   #/p/<product slug>      a product             #/login, #/register, #/support (opens the chat)

import { auth } from "./api.js";
import { logout, renderLogin, renderRegister } from "./account.js";
import { loadCart, renderCart } from "./cart.js";
import { loadCategories, renderList, renderProduct, setupSearch } from "./catalog.js";
import { setupChat, showChat } from "./chat.js";
import { renderCheckout } from "./checkout.js";
import { errorBox, h, mount } from "./dom.js";
import { leaveOrderPage, renderOrder, renderOrderHistory } from "./orders.js";

const main = document.getElementById("view");
const chatToggle = document.getElementById("chat-toggle");
const chatPanel = document.getElementById("chat-panel");

function parseHash() {
  const raw = window.location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(search) };
}

async function route() {
  const { parts, query } = parseHash();
  const [section, id] = parts;
  leaveOrderPage();
  document.body.dataset.route = section || "home";
  // Each navigation renders into its own element: a slower page still loading from an earlier
  // navigation then finishes into a detached element instead of replacing this one.
  const view = document.createElement("div");
  main.replaceChildren(view);
  try {
    switch (section) {
      case undefined:
        return await renderList(view, { query, base: "#/" });
      case "c":
        return await renderList(view, { category: id, query, base: `#/c/${id}` });
      case "search":
        return await renderList(view, { query, base: "#/search" });
      case "p":
        return await renderProduct(view, id);
      case "cart":
        return await renderCart(view);
      case "checkout":
        return await renderCheckout(view);
      case "orders":
        return id ? await renderOrder(view, id, query) : await renderOrderHistory(view);
      case "login":
        return renderLogin(view, query);
      case "register":
        return renderRegister(view, query);
      case "support":
        showChat(chatToggle, chatPanel);
        return await renderList(view, { query: new URLSearchParams(), base: "#/" });
      default:
        mount(view, h("h1", {}, "Not found"), h("p", {}, h("a", { href: "#/" }, "Back to the shop")));
    }
  } catch (error) {
    console.error("page failed", error);
    mount(view, h("h1", {}, "Something went wrong"), errorBox(error));
  }
}

function showAccount() {
  const box = document.getElementById("account");
  if (auth.loggedIn) {
    mount(
      box,
      h("a", { href: "#/orders", id: "nav-orders" }, "Orders"),
      " ",
      h("span", { id: "whoami" }, auth.user.email),
      " ",
      h("button", { type: "button", class: "link", id: "logout", onclick: logout }, "Log out"),
    );
  } else {
    mount(box, h("a", { href: "#/orders", id: "nav-orders" }, "Orders"), " ", h("a", { href: "#/login", id: "nav-login" }, "Log in"));
  }
}

auth.onChange(showAccount);
showAccount();
setupSearch(document.getElementById("search-form"), document.getElementById("search"), document.getElementById("suggestions"));
setupChat(chatToggle, chatPanel);
window.addEventListener("hashchange", route);

loadCategories(document.getElementById("categories")).catch((error) => console.error("categories failed", error));
loadCart().catch((error) => console.error("cart failed", error));
route().finally(() => {
  document.body.dataset.ready = "true";
});
