// Tiny DOM helpers. Text from the API always goes in as text nodes, never as HTML.

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function mount(target, ...children) {
  target.replaceChildren();
  append(target, children);
}

export function money(amount, currency) {
  if (amount === null || amount === undefined) return "";
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(Number(amount));
  } catch {
    return `${amount} ${currency}`;
  }
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

let toastTimer = null;

export function toast(message, kind = "info") {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.hidden = true;
  }, 4000);
}

/** An error box for a failed API call: the API's detail for each error item. */
export function errorBox(error) {
  const items = error?.errors?.length ? error.errors : [{ detail: error?.message || String(error) }];
  return h(
    "div",
    { class: "error", role: "alert", dataset: { code: error?.code || "error" } },
    items.map((item) => h("p", {}, item.attr ? `${item.attr}: ${item.detail}` : item.detail)),
  );
}

export function formData(form) {
  return Object.fromEntries(new FormData(form).entries());
}
