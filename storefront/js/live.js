// Websockets: live order status (/ws/orders/<id>/) and the support chat (/ws/chat/<id>/).
// Browsers cannot set headers on a websocket, so the JWT goes in `?token=` (docs/CHAT.md); guests
// open their order's socket with `?order_token=`. Close codes: 4401 not authenticated (refresh the
// token, reconnect once), 4403 not allowed, 4404 no such resource for this caller.

import { auth, refreshSession, socketUrl } from "./api.js";

const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_NOT_FOUND = 4404;
const POLL_SECONDS = 10;

// Closing a socket that is still connecting makes the browser log an error; wait for it to open.
function closeQuietly(socket) {
  if (!socket) return;
  if (socket.readyState === WebSocket.CONNECTING) socket.addEventListener("open", () => socket.close(1000));
  else if (socket.readyState === WebSocket.OPEN) socket.close(1000);
}

/**
 * Follow an order's status. `onStatus(status)` on connect and on every change. When the socket is
 * refused with 4404 before it said anything (a server without /ws/orders/, or an order this caller
 * cannot open), fall back to polling `poll()` quietly: that is an expected answer, not an error.
 * Any other failure is reported with console.error, and the page keeps polling.
 * Returns a function that stops everything.
 */
export function watchOrderStatus({ orderId, orderToken, onStatus, onMode, poll }) {
  let socket = null;
  let pollTimer = null;
  let stopped = false;
  let retriedAuth = false;
  let failures = 0;

  const startPolling = (reason) => {
    onMode(`Status refreshes every ${POLL_SECONDS} s (${reason}).`);
    if (pollTimer) return;
    pollTimer = setInterval(() => {
      poll().catch((error) => console.error("order status poll failed", error));
    }, POLL_SECONDS * 1000);
  };

  const connect = () => {
    if (stopped) return;
    const params = orderToken ? { order_token: orderToken } : { token: auth.access };
    let heard = false;
    socket = new WebSocket(socketUrl(`/ws/orders/${encodeURIComponent(orderId)}/`, params));
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        console.error("order status: a frame that is not JSON", event.data);
        return;
      }
      if (frame.type === "status") {
        heard = true;
        failures = 0;
        onMode("Live: this page updates by itself.");
        Promise.resolve(onStatus(frame.status)).catch((error) => console.error("order status update failed", error));
      } else if (frame.type === "error") {
        console.error("order status socket error", frame);
      }
    });
    socket.addEventListener("close", async (event) => {
      socket = null;
      if (stopped) return;
      if (event.code === CLOSE_NOT_FOUND && !heard) {
        console.info("order status: /ws/orders/ answered 4404; following the order by polling");
        startPolling("live updates unavailable");
        return;
      }
      if (event.code === CLOSE_UNAUTHENTICATED && !orderToken && !retriedAuth && auth.loggedIn) {
        retriedAuth = true; // the access token expired: refresh it and reconnect once
        if (await refreshSession()) return connect();
      }
      if (event.code === 1000) return;
      failures += 1;
      console.error(`order status socket closed (code ${event.code}${event.reason ? `, ${event.reason}` : ""})`);
      startPolling("connection lost");
      if (failures < 5) setTimeout(connect, 1000 * 2 ** failures); // back off, then keep polling only
    });
  };

  connect();
  return () => {
    stopped = true;
    clearInterval(pollTimer);
    closeQuietly(socket);
  };
}

/**
 * A conversation's socket. `handlers.onFrame(frame)` for every server frame; `onClosed(code)` when
 * it ends for good. Reconnects after a token expiry (4401) with a refreshed token.
 */
export function openChatSocket(conversationId, { onFrame, onOpen, onClosed }) {
  let socket = null;
  let stopped = false;
  let retriedAuth = false;
  const connect = () => {
    socket = new WebSocket(socketUrl(`/ws/chat/${encodeURIComponent(conversationId)}/`, { token: auth.access }));
    socket.addEventListener("open", () => onOpen?.());
    socket.addEventListener("message", (event) => {
      try {
        onFrame(JSON.parse(event.data));
      } catch (error) {
        console.error("chat: bad frame", error);
      }
    });
    socket.addEventListener("close", async (event) => {
      if (stopped) return;
      if (event.code === CLOSE_UNAUTHENTICATED && !retriedAuth) {
        retriedAuth = true;
        if (await refreshSession()) return connect();
      }
      onClosed?.(event.code);
    });
  };
  connect();
  return {
    send(frame) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(frame));
      return true;
    },
    close() {
      stopped = true;
      closeQuietly(socket);
    },
  };
}
