// The demo web client. It uses only the public contract (docs/API.md): REST with the HTTP-only
// cookie for accounts and rooms, Socket.IO (the same cookie) for everything live.
"use strict";

const $ = (id) => document.getElementById(id);
const QUICK_REACTIONS = ["👍", "❤️", "😂"];
const PAGE = 30;

const state = {
  me: null,
  socket: null,
  rooms: new Map(), // roomId -> Room (as in GET /api/rooms/mine)
  current: null, // open roomId
  messages: new Map(), // roomId -> Message[] ascending by seq (pending ones at the end)
  hasMore: new Map(), // roomId -> older history exists
  vers: new Map(), // roomId -> the newest change (ver) held for a loaded room: the sync cursor
  members: new Map(), // roomId -> Map userId -> {user, role, lastReadSeq}
  online: new Set(),
  status: new Map(), // userId -> "away" | "busy" | ... as chosen by them
  typing: new Map(), // roomId -> Map userId -> name
  editing: null, // messageId being edited
  typingRoom: null, // where our typing-start went, so typing-stop goes there too
  typingTimer: null,
};

// -- small helpers --------------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value !== false && value != null) el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child != null && child !== false) el.append(child); // strings become text, never HTML
  }
  return el;
}

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(path, init);
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) {
    const wait = data.error?.details?.retryAfter;
    throw new Error((data.error?.message || `${res.status} ${res.statusText}`) + (wait ? ` (try again in ${wait} s)` : ""));
  }
  return data;
}

// Every event has an ack: {ok: true, ...} or {ok: false, error}.
async function call(event, payload) {
  const ack = await state.socket.timeout(10000).emitWithAck(event, payload);
  if (!ack.ok) throw new Error(ack.error.message);
  return ack;
}

function clientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12)); // works on plain http too
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function showError(where, err) {
  $(where).textContent = err ? err.message || String(err) : "";
}

const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const roomTitle = (room) => (room.type === "direct" ? room.peer?.name || "Direct chat" : room.name);

// -- sign in ----------------------------------------------------------------------------------------

async function start() {
  try {
    state.me = (await api("GET", "/api/auth/me")).user;
  } catch {
    return showAuth();
  }
  await enter();
}

function showAuth() {
  $("app").hidden = true;
  $("auth").hidden = false;
}

$("auth-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData($("auth-form"));
  const registering = !$("name-row").hidden;
  const body = { email: form.get("email"), password: form.get("password") };
  if (registering) body.name = form.get("display-name");
  try {
    const path = registering ? "/api/auth/register" : "/api/auth/login";
    state.me = (await api("POST", path, body)).user;
    showError("auth-error");
    await enter();
  } catch (err) {
    showError("auth-error", err);
  }
});

$("register").addEventListener("click", () => {
  if ($("name-row").hidden) {
    $("name-row").hidden = false;
    $("auth-form").elements["display-name"].required = true;
    $("login").textContent = "Create account";
    $("register").textContent = "I have an account";
  } else {
    $("name-row").hidden = true;
    $("auth-form").elements["display-name"].required = false;
    $("login").textContent = "Log in";
    $("register").textContent = "Create account";
  }
});

$("logout").addEventListener("click", async () => {
  state.socket?.disconnect(); // else its session-expired would reload the page a second time
  await api("POST", "/api/auth/logout").catch(() => {});
  location.reload();
});

async function enter() {
  $("auth").hidden = true;
  $("app").hidden = false;
  $("me-name").textContent = state.me.name;
  $("my-status").value = state.me.status === "offline" ? "online" : state.me.status;
  await loadRooms();
  connect();
}

// -- the socket -----------------------------------------------------------------------------------

function connect() {
  // Same origin: the browser sends the HTTP-only cookie with the handshake.
  const socket = io({ withCredentials: true });
  state.socket = socket;
  let firstConnect = true;

  socket.on("connect", async () => {
    setConnection("");
    renderHeader();
    if (!firstConnect) await catchUp();
    firstConnect = false;
  });
  socket.on("disconnect", () => {
    setConnection("Reconnecting…");
    renderHeader();
  });
  socket.on("connect_error", (err) => {
    if (err.data?.code === "UNAUTHORIZED") location.reload();
    else setConnection("Cannot reach the server; retrying…");
  });
  socket.on("session-expired", () => location.reload());
  socket.on("server-shutdown", () => setConnection("Server restarting…"));

  socket.on("new-message", (m) => {
    addMessages(m.roomId, [m]);
    const room = state.rooms.get(m.roomId);
    if (room) {
      room.lastMessage = { text: m.text, senderName: m.sender.name, createdAt: m.createdAt };
      room.lastSeq = Math.max(room.lastSeq, m.seq);
      room.updatedAt = m.createdAt;
      if (m.roomId === state.current && document.visibilityState === "visible") markRead();
      else if (m.sender.id !== state.me.id) room.unreadCount = (room.unreadCount || 0) + 1; // mine, from another tab: read
    }
    clearTyping(m.roomId, m.sender.id);
    renderRooms();
  });
  socket.on("message-updated", (m) => replaceMessage(m));
  socket.on("message-deleted", ({ roomId, messageId, ver }) => {
    const old = (state.messages.get(roomId) || []).find((x) => x.id === messageId);
    if (old) replaceMessage({ ...old, text: "", attachments: [], reactions: [], deletedAt: new Date().toISOString(), ver });
  });
  socket.on("reaction-updated", ({ roomId, messageId, reactions, ver }) => {
    const old = (state.messages.get(roomId) || []).find((x) => x.id === messageId);
    if (old) replaceMessage({ ...old, reactions, ver });
  });
  socket.on("user-typing", ({ roomId, userId, name, isTyping }) => {
    const typists = state.typing.get(roomId) || new Map();
    if (isTyping) typists.set(userId, name);
    else typists.delete(userId);
    state.typing.set(roomId, typists);
    renderTyping();
  });
  socket.on("online-users", ({ userIds }) => {
    state.online = new Set(userIds);
    renderPresence();
  });
  socket.on("user-online", ({ userId }) => {
    state.online.add(userId);
    renderPresence();
  });
  socket.on("user-offline", ({ userId }) => {
    state.online.delete(userId);
    renderPresence();
  });
  socket.on("user-status-update", ({ userId, status }) => {
    state.status.set(userId, status);
    renderPresence();
  });
  socket.on("message-read-receipt", ({ roomId, userId, seq }) => {
    const member = state.members.get(roomId)?.get(userId);
    if (member) member.lastReadSeq = Math.max(member.lastReadSeq, seq);
    if (roomId === state.current) renderMessages();
  });
  socket.on("room-created", ({ room }) => upsertRoom(room));
  socket.on("room-updated", ({ room }) => upsertRoom(room));
  socket.on("room-deleted", ({ roomId }) => dropRoom(roomId));
  socket.on("member-joined", ({ roomId, user, role }) => {
    const members = state.members.get(roomId);
    if (members && !members.has(user.id)) members.set(user.id, { user, role, lastReadSeq: 0 });
    // Someone new to our rooms: no user-online came for them, their User says it.
    if (user.online) state.online.add(user.id);
    state.status.set(user.id, user.status);
    if (roomId === state.current) renderHeader();
  });
  socket.on("member-left", ({ roomId, userId }) => {
    if (userId === state.me.id) return dropRoom(roomId);
    state.members.get(roomId)?.delete(userId);
    if (roomId === state.current) renderHeader();
  });
}

function setConnection(text) {
  $("connection").textContent = text;
}

// After a reconnect (or a server restart): ask each loaded room for everything created or changed
// after the newest change we hold (new messages, edits, tombstones, reactions), page after page
// while the server says there is more.
async function catchUp() {
  try {
    await loadRooms();
    for (const roomId of [...state.messages.keys()]) {
      if (state.rooms.has(roomId)) continue;
      state.messages.delete(roomId);
      state.vers.delete(roomId);
    }
    let rooms = {};
    for (const roomId of state.messages.keys()) rooms[roomId] = { ver: state.vers.get(roomId) || 0 };
    while (Object.keys(rooms).length) {
      const ack = await call("sync", { rooms });
      rooms = {};
      for (const r of ack.rooms) {
        if (r.error) continue; // gone meanwhile: loadRooms has dropped it already
        applyChanges(r.roomId, r.messages);
        noteVer(r.roomId, [r]); // never behind an event that came in meanwhile
        if (r.hasMore) rooms[r.roomId] = { ver: r.ver };
      }
      // Rooms we were not asking about (say a direct room opened meanwhile): listed, loaded on open.
      for (const room of ack.joined || []) if (!state.rooms.has(room.id)) upsertRoom(room);
    }
    // Receipts and joins may have happened while we were away: the open room's members afresh.
    state.members.clear();
    if (state.current && state.rooms.has(state.current)) await openRoom(state.current);
    else if (state.current) dropRoom(state.current); // deleted, or we were removed, meanwhile
  } catch (err) {
    showError("chat-error", err);
  }
}

// Changes from sync: those to messages we hold replace them, new ones are added; a change to a
// message older than the history loaded waits for that history (it comes in its current state).
function applyChanges(roomId, changed) {
  const list = state.messages.get(roomId);
  if (!list) return;
  const oldest = list.find((m) => m.seq)?.seq;
  const held = new Set(list.map((m) => m.id));
  const older = (m) => state.hasMore.get(roomId) && (!oldest || m.seq < oldest);
  addMessages(roomId, changed.filter((m) => held.has(m.id) || !older(m)));
}

// -- rooms ------------------------------------------------------------------------------------------

async function loadRooms() {
  const { rooms } = await api("GET", "/api/rooms/mine");
  state.rooms = new Map(rooms.map((r) => [r.id, r]));
  renderRooms();
}

function upsertRoom(room) {
  const old = state.rooms.get(room.id);
  state.rooms.set(room.id, { unreadCount: 0, ...old, ...room });
  renderRooms();
  if (room.id === state.current) renderHeader();
}

function dropRoom(roomId) {
  state.rooms.delete(roomId);
  state.messages.delete(roomId);
  state.vers.delete(roomId);
  if (state.current === roomId) {
    state.current = null;
    renderRoom();
  }
  renderRooms();
}

function renderRooms() {
  const sorted = [...state.rooms.values()].sort((a, b) => (b.updatedAt > a.updatedAt ? 1 : -1));
  $("rooms").replaceChildren(
    ...sorted.map((room) =>
      h(
        "li",
        { class: room.id === state.current ? "room active" : "room", "data-room": room.id, onclick: () => openRoom(room.id) },
        room.type === "direct" ? presenceDot(room.peer?.id) : null,
        h("span", { class: "room-name" }, roomTitle(room), room.type === "private" ? " 🔒" : ""),
        room.unreadCount > 0 ? h("span", { class: "badge" }, String(room.unreadCount)) : null,
      ),
    ),
  );
}

async function openRoom(roomId) {
  if (state.editing && roomId !== state.current) setEditing(null);
  state.current = roomId;
  showError("chat-error");
  renderRooms();
  renderRoom();
  try {
    if (!state.members.has(roomId)) {
      const { members } = await api("GET", `/api/rooms/${roomId}/members`);
      state.members.set(roomId, new Map(members.map((m) => [m.user.id, m])));
      for (const m of members) {
        if (m.user.online) state.online.add(m.user.id);
        state.status.set(m.user.id, m.user.status);
      }
    }
    if (!state.messages.has(roomId)) {
      const ack = await call("get-history", { roomId, limit: PAGE });
      state.messages.set(roomId, []);
      state.hasMore.set(roomId, ack.hasMore);
      addMessages(roomId, ack.messages);
    }
    if (roomId !== state.current) return;
    renderRoom();
    scrollToEnd();
    markRead();
  } catch (err) {
    showError("chat-error", err);
  }
}

// Every way into a room (create, invite code, direct, public) ends alike: list it, open it.
async function enterRoom(getRoom, done) {
  try {
    const { room } = await getRoom();
    done();
    upsertRoom(room);
    await openRoom(room.id);
  } catch (err) {
    showError("chat-error", err);
  }
}

$("new-room").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.target;
  const body = {
    name: form.elements["room-name"].value.trim(),
    type: form.elements.private.checked ? "private" : "public",
  };
  enterRoom(() => api("POST", "/api/rooms", body), () => form.reset());
});

$("join-code").addEventListener("submit", (event) => {
  event.preventDefault();
  const inviteCode = event.target.elements.code.value.trim();
  enterRoom(() => api("POST", "/api/rooms/join", { inviteCode }), () => event.target.reset());
});

$("find-user").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const q = encodeURIComponent(event.target.elements.q.value.trim());
    const { users } = await api("GET", `/api/users/search?q=${q}&limit=10`);
    $("people").replaceChildren(
      ...users.map((user) =>
        h("li", { class: "person", onclick: () => openDirect(user.id) }, user.name, h("span", { class: "muted" }, " · message")),
      ),
    );
    if (!users.length) $("people").replaceChildren(h("li", { class: "muted" }, "Nobody found"));
  } catch (err) {
    showError("chat-error", err);
  }
});

function openDirect(userId) {
  enterRoom(() => api("POST", "/api/rooms/direct", { userId }), () => {
    $("people").replaceChildren();
    $("find-user").reset();
  });
}

$("browse").addEventListener("click", async () => {
  try {
    const { rooms } = await api("GET", "/api/rooms?limit=20");
    const joinable = rooms.filter((r) => !state.rooms.has(r.id));
    $("public-rooms").replaceChildren(
      ...joinable.map((room) => h("li", { class: "person", onclick: () => joinPublic(room.id) }, room.name, h("span", { class: "muted" }, ` · ${room.memberCount} · join`))),
    );
    if (!joinable.length) $("public-rooms").replaceChildren(h("li", { class: "muted" }, "No other public rooms"));
  } catch (err) {
    showError("chat-error", err);
  }
});

function joinPublic(roomId) {
  enterRoom(() => call("join-room", { roomId }), () => $("public-rooms").replaceChildren());
}

$("my-status").addEventListener("change", async (event) => {
  try {
    await call("user-status", { status: event.target.value });
    renderHeader();
  } catch (err) {
    showError("chat-error", err);
  }
});

// -- messages ---------------------------------------------------------------------------------------

// Merge by id (a message can arrive by broadcast, ack and sync); keep ascending seq.
function addMessages(roomId, incoming) {
  if (!state.messages.has(roomId)) return; // not loaded yet: history will bring it
  const list = state.messages.get(roomId);
  noteVer(roomId, incoming);
  for (const m of incoming) {
    const at = list.findIndex((x) => x.id === m.id || (m.clientId && x.clientId === m.clientId && x.sender.id === m.sender.id));
    if (at >= 0) list[at] = m;
    else list.push(m);
  }
  const order = (m) => m.seq || Number.MAX_SAFE_INTEGER; // pending sends last
  list.sort((a, b) => order(a) - order(b));
  if (roomId === state.current) {
    const nearEnd = isNearEnd();
    renderMessages();
    if (nearEnd) scrollToEnd();
  }
}

// The sync cursor follows every change seen in a loaded room (history, acks, events, sync).
function noteVer(roomId, messages) {
  for (const m of messages) if (m.ver > (state.vers.get(roomId) || 0)) state.vers.set(roomId, m.ver);
}

function replaceMessage(m) {
  const list = state.messages.get(m.roomId);
  const at = list ? list.findIndex((x) => x.id === m.id) : -1;
  if (at < 0) return;
  noteVer(m.roomId, [m]);
  list[at] = m;
  if (m.roomId === state.current) renderMessages();
}

let readTimer = null;
function markRead() {
  clearTimeout(readTimer);
  readTimer = setTimeout(async () => {
    const room = state.rooms.get(state.current);
    const list = state.messages.get(state.current) || [];
    const last = list.filter((m) => m.seq).pop();
    if (!room || !last || (room.lastReadSeq >= last.seq && !room.unreadCount)) return;
    try {
      const ack = await call("message-read", { roomId: room.id, seq: last.seq });
      room.lastReadSeq = ack.lastReadSeq;
      room.unreadCount = 0;
      renderRooms();
    } catch (err) {
      showError("chat-error", err);
    }
  }, 150);
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && state.current) markRead();
});

$("composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  stopTyping();
  if (state.editing) {
    const messageId = state.editing;
    setEditing(null);
    return call("edit-message", { messageId, text }).then(({ message }) => replaceMessage(message), (err) => showError("chat-error", err));
  }
  await send(state.current, text, clientId());
});

// Shown at once as pending; the ack replaces it. A failed send keeps its clientId, so "retry"
// can never post it twice.
async function send(roomId, text, id) {
  const pending = { id: `pending-${id}`, clientId: id, roomId, seq: 0, sender: state.me, type: "text", text, attachments: [], reactions: [], createdAt: new Date().toISOString(), pending: true };
  addMessages(roomId, [pending]);
  scrollToEnd();
  try {
    const { message } = await call("send-message", { roomId, text, clientId: id });
    addMessages(roomId, [message]);
    showError("chat-error");
  } catch (err) {
    addMessages(roomId, [{ ...pending, pending: false, failed: err.message }]);
  }
}

$("file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file || !state.current) return;
  const form = new FormData();
  form.append("roomId", state.current);
  form.append("clientId", clientId());
  form.append("file", file);
  try {
    const { message } = await api("POST", "/api/uploads", form);
    addMessages(message.roomId, [message]);
    scrollToEnd();
  } catch (err) {
    showError("chat-error", err);
  }
});

$("text").addEventListener("input", () => {
  if (!state.current || state.editing) return;
  if (state.typingRoom !== state.current) {
    stopTyping();
    state.typingRoom = state.current;
    call("typing-start", { roomId: state.current }).catch(() => {});
  }
  clearTimeout(state.typingTimer);
  state.typingTimer = setTimeout(stopTyping, 3000);
});

function stopTyping() {
  clearTimeout(state.typingTimer);
  if (state.typingRoom) call("typing-stop", { roomId: state.typingRoom }).catch(() => {});
  state.typingRoom = null;
}

function clearTyping(roomId, userId) {
  state.typing.get(roomId)?.delete(userId);
  renderTyping();
}

// Scrolling to the top loads the page before the oldest message shown.
$("messages").addEventListener("scroll", async () => {
  const roomId = state.current;
  const box = $("messages");
  if (box.scrollTop > 40 || !state.hasMore.get(roomId) || box.dataset.loading) return;
  box.dataset.loading = "1";
  try {
    const oldest = state.messages.get(roomId).find((m) => m.seq)?.seq;
    const ack = await call("get-history", { roomId, before: oldest, limit: PAGE });
    state.hasMore.set(roomId, ack.hasMore);
    const height = box.scrollHeight;
    addMessages(roomId, ack.messages);
    box.scrollTop = box.scrollHeight - height; // keep the reader's place
  } catch (err) {
    showError("chat-error", err);
  } finally {
    delete box.dataset.loading;
  }
});

function setEditing(message) {
  state.editing = message ? message.id : null;
  $("editing").hidden = !message;
  $("text").value = message ? message.text : "";
  if (message) $("text").focus();
}
$("cancel-edit").addEventListener("click", () => setEditing(null));

// -- rendering the open room ------------------------------------------------------------------------

function renderRoom() {
  const room = state.rooms.get(state.current);
  $("composer").hidden = !room;
  renderHeader();
  renderMessages();
  renderTyping();
}

function renderHeader() {
  const room = state.rooms.get(state.current);
  $("room-name").textContent = room ? roomTitle(room) : "No room open";
  $("invite").hidden = !room?.inviteCode;
  $("invite-code").textContent = room?.inviteCode || "";
  const members = [...(state.members.get(state.current)?.values() || [])];
  $("room-info").replaceChildren(
    ...members.map((m) =>
      h(
        "span",
        { class: "member" },
        presenceDot(m.user.id),
        m.user.name,
        room && mayKick(room, m)
          ? h("button", { class: "link kick", title: `Remove ${m.user.name} from the room`, onclick: () => kick(room.id, m) }, room.type === "private" ? "kick and renew the invite code" : "kick")
          : null,
      ),
    ),
  );
}

// The server's rule (docs/API.md): admins remove members, the owner anyone but themself.
function mayKick(room, m) {
  if (room.type === "direct" || m.user.id === state.me.id || m.role === "owner") return false;
  return room.myRole === "owner" || (room.myRole === "admin" && m.role === "member");
}

// A kick is not a ban: the kicked member still holds the invite code and could walk back in with
// it, so in a private room the code is renewed in the same step (the old one stops working).
async function kick(roomId, m) {
  const renew = state.rooms.get(roomId)?.type === "private";
  if (!confirm(renew ? `Remove ${m.user.name} and renew the invite code?` : `Remove ${m.user.name}?`)) return;
  try {
    await api("DELETE", `/api/rooms/${roomId}/members/${m.user.id}`);
    state.members.get(roomId)?.delete(m.user.id);
    if (renew) {
      const { inviteCode } = await api("POST", `/api/rooms/${roomId}/invite-code`);
      upsertRoom({ id: roomId, inviteCode });
    }
    if (roomId === state.current) renderHeader();
  } catch (err) {
    showError("chat-error", err);
  }
}

// Green online, amber away, red busy, grey offline; the title says it in words.
function presenceDot(userId) {
  const online = userId === state.me.id ? state.socket?.connected : state.online.has(userId);
  const chosen = userId === state.me.id ? $("my-status").value : state.status.get(userId);
  const status = !online ? "offline" : chosen === "away" || chosen === "busy" ? chosen : "online";
  return h("span", { class: `dot ${status}`, title: status });
}

function renderPresence() {
  renderRooms();
  renderHeader();
}

function renderTyping() {
  const names = [...(state.typing.get(state.current)?.values() || [])];
  $("typing").textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
}

function renderMessages() {
  const room = state.rooms.get(state.current);
  const list = state.messages.get(state.current) || [];
  const members = state.members.get(state.current) || new Map();
  const mine = list.filter((m) => m.sender.id === state.me.id && m.seq && !m.deletedAt).pop();
  const readers = mine ? [...members.values()].filter((m) => m.user.id !== state.me.id && m.lastReadSeq >= mine.seq).map((m) => m.user.name) : [];
  const canModerate = room && ["owner", "admin"].includes(room.myRole) && room.type !== "direct";
  $("messages").replaceChildren(
    ...(state.hasMore.get(state.current) ? [h("li", { class: "muted more" }, "Scroll up for older messages")] : []),
    ...list.map((m) => renderMessage(m, m === mine ? readers : null, canModerate)),
  );
}

function renderMessage(m, readers, canModerate) {
  const own = m.sender.id === state.me.id;
  const classes = ["message", own ? "own" : "", m.pending ? "pending" : "", m.failed ? "failed" : "", m.deletedAt ? "deleted" : ""];
  const body = m.deletedAt
    ? h("p", { class: "text muted" }, "Message deleted")
    : h("div", {}, m.text ? h("p", { class: "text" }, m.text) : null, ...m.attachments.map(renderAttachment));
  const actions =
    m.seq && !m.deletedAt
      ? h(
          "span",
          { class: "actions" },
          ...QUICK_REACTIONS.map((emoji) => h("button", { class: "link", title: `React ${emoji}`, onclick: () => react(m, emoji) }, emoji)),
          own && m.type === "text" ? h("button", { class: "link", onclick: () => setEditing(m) }, "edit") : null,
          own || canModerate ? h("button", { class: "link", onclick: () => remove(m) }, "delete") : null,
        )
      : null;
  return h(
    "li",
    { class: classes.filter(Boolean).join(" "), "data-seq": m.seq || "" },
    h("header", {}, h("strong", {}, m.sender.name), " ", h("time", { datetime: m.createdAt }, time(m.createdAt)), m.editedAt && !m.deletedAt ? h("span", { class: "muted" }, " (edited)") : null, actions),
    body,
    m.reactions.length
      ? h("p", { class: "reactions" }, ...m.reactions.map((r) => h("button", { class: r.userIds.includes(state.me.id) ? "chip mine" : "chip", onclick: () => react(m, r.emoji) }, `${r.emoji} ${r.count}`)))
      : null,
    m.pending ? h("p", { class: "status" }, "Sending…") : null,
    m.failed ? h("p", { class: "status error" }, `Not sent: ${m.failed} `, h("button", { class: "link", onclick: () => send(m.roomId, m.text, m.clientId) }, "retry")) : null,
    readers ? h("p", { class: "status receipt" }, readers.length ? `Seen by ${readers.join(", ")}` : "Sent") : null,
  );
}

function renderAttachment(a) {
  if (a.mimeType.startsWith("image/")) {
    // The room draws the thumbnail (first frame, at most 1280 px); the original opens on click.
    const shown = a.thumbnail || a;
    return h("a", { href: a.url, target: "_blank", rel: "noopener" }, h("img", { src: shown.url, alt: a.name, width: shown.width, height: shown.height, loading: "lazy" }));
  }
  return h("p", {}, h("a", { href: a.url, rel: "noopener" }, `📄 ${a.name}`), h("span", { class: "muted" }, ` ${Math.ceil(a.size / 1024)} KB`));
}

async function react(m, emoji) {
  try {
    const { reactions } = await call("react-message", { messageId: m.id, emoji });
    replaceMessage({ ...state.messages.get(m.roomId).find((x) => x.id === m.id), reactions });
  } catch (err) {
    showError("chat-error", err);
  }
}

async function remove(m) {
  if (!confirm("Delete this message?")) return;
  try {
    await call("delete-message", { messageId: m.id });
    replaceMessage({ ...m, text: "", attachments: [], reactions: [], deletedAt: new Date().toISOString() });
  } catch (err) {
    showError("chat-error", err);
  }
}

function isNearEnd() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function scrollToEnd() {
  const box = $("messages");
  box.scrollTop = box.scrollHeight;
}

start();
