// The one place that talks HTTP to the API: base URL, JWT, the anonymous cart token, Idempotency-Key
// and the API's error shape ({type, errors: [{code, detail, attr}]}).

const configured = document.querySelector('meta[name="storefront-api"]')?.content?.trim();
// Empty = the API is this page's origin (the project serves the storefront at /storefront/).
export const API_ORIGIN = (configured || window.location.origin).replace(/\/+$/, "");
const API_BASE = `${API_ORIGIN}/api/v1`;

const CART_TOKEN_KEY = "storefront.cartToken"; // localStorage: an anonymous cart outlives the tab
const SESSION_KEY = "storefront.session"; // sessionStorage: tokens die with the tab
const GUEST_ORDERS_KEY = "storefront.guestOrders"; // localStorage: {order_id: order_token}

export class ApiError extends Error {
  constructor(status, body) {
    const first = body?.errors?.[0];
    super(first?.detail || `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.code = first?.code || (status === 0 ? "network_error" : "error");
    this.attr = first?.attr || null;
    this.errors = body?.errors || [];
  }
}

// ---- session (JWT) --------------------------------------------------------------------------
let session = null;
try {
  session = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
} catch {
  session = null;
}
const listeners = new Set();

export const auth = {
  get user() {
    return session?.user || null;
  },
  get access() {
    return session?.access || null;
  },
  get refresh() {
    return session?.refresh || null;
  },
  get loggedIn() {
    return Boolean(session?.access);
  },
  onChange(callback) {
    listeners.add(callback);
  },
  set(loginShape) {
    session = { user: loginShape.user, access: loginShape.tokens.access, refresh: loginShape.tokens.refresh };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    listeners.forEach((callback) => callback());
  },
  clear() {
    session = null;
    sessionStorage.removeItem(SESSION_KEY);
    // The customer's cart token means nothing to an anonymous caller (404 cart_not_found).
    cartToken.clear();
    listeners.forEach((callback) => callback());
  },
};

// ---- cart token -----------------------------------------------------------------------------
export const cartToken = {
  get() {
    return localStorage.getItem(CART_TOKEN_KEY);
  },
  set(token) {
    if (token) localStorage.setItem(CART_TOKEN_KEY, token);
  },
  clear() {
    localStorage.removeItem(CART_TOKEN_KEY);
  },
};

// ---- guest orders ---------------------------------------------------------------------------
export const guestOrders = {
  all() {
    try {
      return JSON.parse(localStorage.getItem(GUEST_ORDERS_KEY) || "{}");
    } catch {
      return {};
    }
  },
  token(orderId) {
    return this.all()[orderId] || null;
  },
  remember(orderId, token) {
    if (!orderId || !token) return;
    const all = this.all();
    all[orderId] = token;
    localStorage.setItem(GUEST_ORDERS_KEY, JSON.stringify(all));
  },
};

export function newIdempotencyKey() {
  return crypto.randomUUID();
}

/** An image URL the page can load: absolute URLs as they are, paths resolved against the API. */
export function mediaUrl(url) {
  if (!url) return "";
  return new URL(url, `${API_ORIGIN}/`).href;
}

let refreshing = null;

async function refreshAccess() {
  if (!session?.refresh) return false;
  refreshing ||= (async () => {
    const response = await fetch(`${API_BASE}/authentication/token/refresh/`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ refresh: session.refresh }),
    });
    if (!response.ok) {
      auth.clear();
      return false;
    }
    const pair = await response.json();
    session = { ...session, access: pair.access, refresh: pair.refresh };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
    return true;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** Refresh the access token now (a websocket closed with 4401 because its token expired). */
export async function refreshSession() {
  return refreshAccess();
}

/**
 * Call the API. `cart: true` sends and keeps the X-Cart-Token; `idempotencyKey` sets the header
 * (the caller keeps one key per user action, so a retry of the same action replays).
 */
export async function api(path, { method = "GET", body, query, cart = false, idempotencyKey, retry = true } = {}) {
  const url = new URL(`${API_BASE}/${path.replace(/^\/+/, "")}`);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (session?.access) headers.Authorization = `Bearer ${session.access}`;
  if (cart && cartToken.get()) headers["X-Cart-Token"] = cartToken.get();
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;

  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, { errors: [{ code: "network_error", detail: `The shop cannot be reached (${error.message}).` }] });
  }
  if (cart && response.headers.get("X-Cart-Token")) cartToken.set(response.headers.get("X-Cart-Token"));
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (response.status === 401 && retry && session?.refresh && data?.errors?.[0]?.code === "token_not_valid") {
    if (await refreshAccess()) return api(path, { method, body, query, cart, idempotencyKey, retry: false });
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** The websocket URL for a path like /ws/chat/<id>/ on the API's host. */
export function socketUrl(path, params = {}) {
  const url = new URL(path, `${API_ORIGIN}/`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  for (const [name, value] of Object.entries(params)) if (value) url.searchParams.set(name, value);
  return url.href;
}
