// Browse, search, facets, suggestions and the product page.

import { api, mediaUrl } from "./api.js";
import { addToCart } from "./cart.js";
import { errorBox, h, money, mount, toast } from "./dom.js";

// The list filters the API knows (docs/CATALOG.md); nothing else goes into the query string.
const LIST_FILTERS = ["category", "q", "min_price", "max_price", "in_stock", "ordering", "page"];

let categoryTree = [];

export async function loadCategories(nav, onReady) {
  categoryTree = await api("categories/");
  mount(
    nav,
    h(
      "ul",
      { class: "categories" },
      categoryTree.map((root) =>
        h(
          "li",
          {},
          h("a", { href: `#/c/${root.slug}`, dataset: { category: root.slug } }, root.name),
          root.children?.length
            ? h(
                "ul",
                {},
                root.children.map((child) =>
                  h("li", {}, h("a", { href: `#/c/${child.slug}`, dataset: { category: child.slug } }, child.name)),
                ),
              )
            : null,
        ),
      ),
    ),
  );
  onReady?.();
}

function listHash(base, params) {
  const query = new URLSearchParams();
  for (const name of LIST_FILTERS) if (params[name] && name !== "category") query.set(name, params[name]);
  const text = query.toString();
  return text ? `${base}?${text}` : base;
}

function productCard(product) {
  return h(
    "li",
    { class: "card", dataset: { slug: product.slug } },
    h(
      "a",
      { href: `#/p/${product.slug}` },
      product.image ? h("img", { src: mediaUrl(product.image), alt: product.name, loading: "lazy" }) : h("div", { class: "noimg" }),
      h("span", { class: "name" }, product.name),
    ),
    h(
      "span",
      { class: "price" },
      money(product.price, product.currency),
      product.compare_at_price ? h("s", {}, money(product.compare_at_price, product.currency)) : null,
    ),
    product.in_stock ? null : h("span", { class: "badge" }, "Sold out"),
  );
}

/** Product lists: `#/` (everything), `#/c/<slug>` (a category), `#/search?q=`. */
export async function renderList(view, { category = "", query = new URLSearchParams(), base }) {
  const params = { category };
  for (const name of LIST_FILTERS) if (query.get(name)) params[name] = query.get(name);
  const title = category ? findCategory(category)?.name || category : params.q ? `Search: ${params.q}` : "All products";
  mount(view, h("h1", {}, title), h("p", { class: "muted" }, "Loading…"));

  const facetParams = { ...params };
  delete facetParams.ordering;
  delete facetParams.page;
  let list, facets;
  try {
    [list, facets] = await Promise.all([
      api("products/", { query: { ...params, page_size: 24 } }),
      api("products/facets/", { query: facetParams }),
    ]);
  } catch (error) {
    mount(view, h("h1", {}, title), errorBox(error));
    return;
  }

  const go = (changes) => {
    window.location.hash = listHash(base, { ...params, page: "", ...changes });
  };
  const facetsBox = h(
    "aside",
    { class: "facets", "aria-label": "Filters" },
    h("h2", {}, `${facets.count} products`),
    facets.categories.length
      ? h(
          "div",
          { class: "facet", id: "facet-categories" },
          h("h3", {}, "Category"),
          h(
            "ul",
            {},
            facets.categories.map((item) =>
              h(
                "li",
                {},
                h(
                  "a",
                  { href: listHash(`#/c/${item.slug}`, { ...params, page: "" }), dataset: { facetCategory: item.slug } },
                  `${item.name} (${item.count})`,
                ),
              ),
            ),
          ),
        )
      : null,
    h(
      "div",
      { class: "facet" },
      h("h3", {}, "Price"),
      facets.price.min !== null
        ? h("p", { class: "muted" }, `${money(facets.price.min, list.results[0]?.currency || "USD")} – ${money(facets.price.max, list.results[0]?.currency || "USD")}`)
        : null,
      h(
        "form",
        {
          id: "price-filter",
          onsubmit: (event) => {
            event.preventDefault();
            const form = new FormData(event.target);
            go({ min_price: form.get("min_price"), max_price: form.get("max_price") });
          },
        },
        h("input", { name: "min_price", type: "number", min: "0", step: "0.01", placeholder: "min", value: params.min_price || "" }),
        h("input", { name: "max_price", type: "number", min: "0", step: "0.01", placeholder: "max", value: params.max_price || "" }),
        h("button", { type: "submit" }, "Apply"),
      ),
    ),
    h(
      "div",
      { class: "facet" },
      h(
        "label",
        {},
        h("input", {
          type: "checkbox",
          id: "in-stock-filter",
          checked: params.in_stock === "true",
          onchange: (event) => go({ in_stock: event.target.checked ? "true" : "" }),
        }),
        ` In stock only (${facets.in_stock})`,
      ),
    ),
    h(
      "div",
      { class: "facet" },
      h("h3", {}, "Sort"),
      h(
        "select",
        { id: "ordering", onchange: (event) => go({ ordering: event.target.value }) },
        [
          ["", params.q ? "Relevance" : "Newest"],
          ["price", "Price: low to high"],
          ["-price", "Price: high to low"],
          ["-rating", "Best rated"],
          ["name", "Name"],
        ].map(([value, label]) => h("option", { value, selected: (params.ordering || "") === value }, label)),
      ),
    ),
  );

  const page = Number(params.page || 1);
  const pager = h(
    "nav",
    { class: "pager" },
    list.previous ? h("a", { href: listHash(base, { ...params, page: String(page - 1) }) }, "← Previous") : null,
    list.next ? h("a", { href: listHash(base, { ...params, page: String(page + 1) }) }, "Next →") : null,
  );
  mount(
    view,
    h("h1", {}, title),
    h(
      "div",
      { class: "listing" },
      facetsBox,
      h(
        "section",
        {},
        list.results.length ? h("ul", { class: "grid", id: "products" }, list.results.map(productCard)) : h("p", { id: "no-results" }, "Nothing found."),
        pager,
      ),
    ),
  );
}

function findCategory(slug, nodes = categoryTree) {
  for (const node of nodes) {
    if (node.slug === slug) return node;
    const found = findCategory(slug, node.children || []);
    if (found) return found;
  }
  return null;
}

/** The header's search box: suggestions from products/suggest/ as the customer types. */
export function setupSearch(form, input, list) {
  let timer = null;
  let latest = 0;
  const close = () => {
    list.hidden = true;
    list.replaceChildren();
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) return close(); // the API wants 2 to 100 characters
    timer = setTimeout(async () => {
      const ticket = ++latest;
      let answer;
      try {
        answer = await api("products/suggest/", { query: { q: q.slice(0, 100) } });
      } catch (error) {
        console.warn("suggestions unavailable", error);
        return;
      }
      if (ticket !== latest) return; // a newer keystroke won
      const items = [
        ...answer.products.map((product) =>
          h(
            "li",
            {},
            h(
              "a",
              { href: `#/p/${product.slug}`, class: "suggestion", dataset: { slug: product.slug } },
              product.image ? h("img", { src: mediaUrl(product.image), alt: "" }) : null,
              product.name,
            ),
          ),
        ),
        ...answer.categories.map((category) =>
          h("li", {}, h("a", { href: `#/c/${category.slug}`, class: "suggestion" }, `in ${category.name}`)),
        ),
      ];
      list.replaceChildren(...items);
      list.hidden = items.length === 0;
    }, 150);
  });
  list.addEventListener("click", () => setTimeout(close));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    close();
    const q = input.value.trim();
    if (q) window.location.hash = `#/search?q=${encodeURIComponent(q)}`;
  });
  window.addEventListener("hashchange", close);
}

/** `#/p/<slug>`: images, variants with options, price and availability, add to cart. */
export async function renderProduct(view, slug) {
  mount(view, h("p", { class: "muted" }, "Loading…"));
  let product;
  try {
    product = await api(`products/${encodeURIComponent(slug)}/`);
  } catch (error) {
    mount(view, h("h1", {}, "Product"), errorBox(error));
    return;
  }
  const images = product.images?.length ? product.images : product.image ? [{ url: product.image, alt_text: product.name }] : [];
  const mainImage = images.length ? h("img", { id: "main-image", src: mediaUrl(images[0].url), alt: images[0].alt_text || product.name }) : h("div", { class: "noimg" });
  const thumbs = images.length > 1
    ? h(
        "div",
        { class: "thumbs" },
        images.map((image) =>
          h(
            "button",
            {
              type: "button",
              onclick: () => {
                mainImage.src = mediaUrl(image.url);
                mainImage.alt = image.alt_text || product.name;
              },
            },
            h("img", { src: mediaUrl(image.url), alt: image.alt_text || "" }),
          ),
        ),
      )
    : null;

  const firstAvailable = product.variants.find((variant) => variant.in_stock) || product.variants[0];
  let selected = firstAvailable;
  const price = h("p", { class: "price", id: "variant-price" });
  const stock = h("p", { id: "variant-stock" });
  const quantity = h("input", { id: "quantity", type: "number", min: "1", value: "1" });
  const addButton = h("button", { id: "add-to-cart", type: "submit" }, "Add to cart");
  const show = () => {
    price.replaceChildren(
      money(selected.price, selected.currency),
      selected.compare_at_price ? h("s", {}, money(selected.compare_at_price, selected.currency)) : "",
    );
    stock.textContent = selected.in_stock ? `${selected.available_quantity} in stock` : "Sold out";
    quantity.max = String(Math.max(1, selected.available_quantity));
    addButton.disabled = !selected.in_stock;
  };
  const variantPicker = h(
    "fieldset",
    { class: "variants", id: "variants" },
    h("legend", {}, "Options"),
    product.variants.map((variant) =>
      h(
        "label",
        { class: variant.in_stock ? "" : "soldout" },
        h("input", {
          type: "radio",
          name: "variant",
          value: String(variant.id),
          checked: variant === selected,
          dataset: { sku: variant.sku },
          onchange: () => {
            selected = variant;
            show();
          },
        }),
        ` ${variant.name}`,
        Object.keys(variant.options || {}).length
          ? h("small", {}, ` (${Object.entries(variant.options).map(([key, value]) => `${key}: ${value}`).join(", ")})`)
          : null,
      ),
    ),
  );
  show();

  const form = h(
    "form",
    {
      id: "add-form",
      onsubmit: async (event) => {
        event.preventDefault();
        addButton.disabled = true;
        try {
          await addToCart(selected.id, Number(quantity.value || 1));
          toast(`${product.name} added to your cart.`);
        } catch (error) {
          form.append(errorBox(error));
        } finally {
          addButton.disabled = !selected.in_stock;
        }
      },
    },
    variantPicker,
    price,
    stock,
    h("label", {}, "Quantity ", quantity),
    addButton,
  );

  mount(
    view,
    h(
      "nav",
      { class: "breadcrumbs" },
      h("a", { href: "#/" }, "Home"),
      (product.breadcrumbs || []).map((crumb) => [" / ", h("a", { href: `#/c/${crumb.slug}` }, crumb.name)]),
    ),
    h(
      "article",
      { class: "product", dataset: { slug: product.slug } },
      h("div", { class: "gallery" }, mainImage, thumbs),
      h(
        "div",
        { class: "details" },
        h("h1", {}, product.name),
        product.brand ? h("p", { class: "muted" }, product.brand) : null,
        product.rating?.count ? h("p", {}, `★ ${product.rating.average} (${product.rating.count} reviews)`) : null,
        h("p", {}, product.description),
        form,
        Object.keys(product.attributes || {}).length
          ? h(
              "dl",
              { class: "attributes" },
              Object.entries(product.attributes).map(([key, value]) => [h("dt", {}, key), h("dd", {}, String(value))]),
            )
          : null,
      ),
    ),
  );
}
