// The support chat widget: the customer's open conversation (or a new one) over /ws/chat/<id>/,
// history from the REST endpoint. Chat needs an account (conversations belong to a customer).

import { api, auth } from "./api.js";
import { errorBox, h, mount, when } from "./dom.js";
import { openChatSocket } from "./live.js";

let socket = null;
let conversation = null;

function messageItem(message) {
  return h(
    "li",
    { class: `msg msg-${message.sender.role}`, dataset: { messageId: message.id } },
    h("span", { class: "who" }, message.sender.role === "agent" ? message.sender.name || "Support" : "You"),
    h("span", { class: "body" }, message.body),
    h("time", {}, when(message.created_at)),
  );
}

export function setupChat(toggle, panel) {
  toggle.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    toggle.setAttribute("aria-expanded", String(!panel.hidden));
    if (!panel.hidden) openChat(panel);
  });
  auth.onChange(() => {
    closeChat();
    if (!panel.hidden) openChat(panel);
  });
}

export function showChat(toggle, panel) {
  if (panel.hidden) toggle.click();
}

function closeChat() {
  socket?.close();
  socket = null;
  conversation = null;
}

async function openChat(panel) {
  if (!auth.loggedIn) {
    mount(panel, h("h2", {}, "Support"), h("p", {}, h("a", { href: "#/login?next=/support" }, "Log in"), " to chat with our team."));
    return;
  }
  if (socket) return;
  mount(panel, h("h2", {}, "Support"), h("p", { class: "muted" }, "Connecting…"));
  let open;
  try {
    open = await api("chat/conversations/", { query: { status: "open", page_size: 1 } });
  } catch (error) {
    mount(panel, h("h2", {}, "Support"), error.status === 404 ? h("p", {}, "Chat is not available right now.") : errorBox(error));
    return;
  }
  conversation = open.results[0] || null;
  if (!conversation) {
    startForm(panel);
    return;
  }
  await showConversation(panel);
}

function startForm(panel) {
  const form = h(
    "form",
    {
      id: "chat-start",
      onsubmit: async (event) => {
        event.preventDefault();
        const body = new FormData(form).get("body").trim();
        if (!body) return;
        try {
          conversation = await api("chat/conversations/", { method: "POST", body: { body } });
          await showConversation(panel);
        } catch (error) {
          form.append(errorBox(error));
        }
      },
    },
    h("label", {}, "How can we help? ", h("textarea", { name: "body", id: "chat-first", required: true, rows: "3" })),
    h("button", { type: "submit" }, "Start chat"),
  );
  mount(panel, h("h2", {}, "Support"), form);
}

async function showConversation(panel) {
  const list = h("ol", { class: "messages", id: "chat-messages" });
  const status = h("p", { class: "muted", id: "chat-status" }, "Connecting…");
  const typing = h("p", { class: "muted", id: "chat-typing" });
  const input = h("input", { id: "chat-input", autocomplete: "off", placeholder: "Write a message", maxlength: "2000" });
  const seen = new Set();
  const add = (message) => {
    if (seen.has(message.id)) return;
    seen.add(message.id);
    list.append(messageItem(message));
    list.scrollTop = list.scrollHeight;
  };
  const form = h(
    "form",
    {
      id: "chat-form",
      onsubmit: (event) => {
        event.preventDefault();
        const body = input.value.trim();
        if (!body) return;
        // The server's echo (with its id) is the confirmation; it is shown when it arrives.
        if (socket?.send({ type: "message", body })) input.value = "";
        else status.textContent = "Not connected; try again in a moment.";
      },
    },
    input,
    h("button", { type: "submit", id: "chat-send" }, "Send"),
  );
  input.addEventListener("input", () => socket?.send({ type: "typing" }));
  mount(panel, h("h2", {}, conversation.subject || "Support"), list, typing, status, form);

  try {
    const history = await api(`chat/conversations/${conversation.id}/messages/`, { query: { page_size: 50 } });
    history.results.slice().reverse().forEach(add); // newest first from the API
  } catch (error) {
    panel.append(errorBox(error));
  }
  let lastAgentMessage = null;
  socket = openChatSocket(conversation.id, {
    onOpen: () => {
      status.textContent = "Connected";
      status.dataset.state = "open";
    },
    onFrame: (frame) => {
      if (frame.type === "message") {
        add(frame.message);
        typing.textContent = "";
        if (frame.message.sender.role === "agent") {
          lastAgentMessage = frame.message.id;
          socket?.send({ type: "read", message_id: lastAgentMessage });
        }
      } else if (frame.type === "typing") {
        typing.textContent = `${frame.user.name} is typing…`;
        setTimeout(() => (typing.textContent = ""), 3000);
      } else if (frame.type === "conversation" && frame.event === "closed") {
        status.textContent = "This conversation was closed. Open the chat again to start a new one.";
        closeChat();
      } else if (frame.type === "error") {
        status.textContent = frame.detail;
        if (!["rate_limited", "message_empty", "message_too_long"].includes(frame.code)) console.error("chat error", frame);
      }
    },
    onClosed: (code) => {
      status.dataset.state = "closed";
      status.textContent = code === 4404 ? "Chat is not available right now." : `Disconnected (${code}).`;
      if (code !== 1000 && code !== 4404) console.error(`chat socket closed (code ${code})`);
      socket = null;
    },
  });
}
