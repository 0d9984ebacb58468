// The demo web client. It uses only the public contract (docs/API.md): REST with the HTTP-only
// cookie for accounts and rooms, Socket.IO (the same cookie) for everything live.
//
// Thread replies are ordinary messages of the room (a seq, counted as unread, read by the same
// pointer), so they stay in the main timeline, marked "in a thread"; the thread panel shows a
// root with its replies alone.
//
// Safety: a member's profile (from the member list) blocks and unblocks, and for the room's owner
// and admins bans and mutes; a message's actions report it; the room's Moderation dialog sets slow
// mode and lifts bans and mutes; a server admin (your user's `role`) gets the reports queue. A
// refused write says why in place of the composer: muted (until when), slow mode's countdown, or
// a direct room closed by a block ("You can't message this user", the same words either way).
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
  thread: null, // the open thread panel: {rootId, roomId, root, replies, hasMore}
  pins: null, // the open pins list: {roomId, messages} (most recently pinned first; null: loading)
  blocked: new Map(), // userId -> User: whom I block, most recently blocked first
  muted: new Map(), // roomId -> mutedUntil (ISO, or null: until lifted), learnt from a refusal
  waitUntil: new Map(), // roomId -> epoch ms: when a RATE_LIMITED send may go again (retryAfter)
  cantMessage: new Set(), // direct roomIds whose sends were refused (a block, either way)
  reported: new Set(), // messageIds reported from this page
  leaving: false, // our own account deletion is under way: its session-expired is expected
  profile: null, // the open member's profile: {roomId, user, role, mute (undefined: not asked)}
  moderation: null, // the open Moderation dialog: {roomId, bans, mutes} (null lists: loading)
  reporting: null, // the message the report dialog is about
  reports: [], // the admin screen's reports
  adminUsers: [], // the admin screen's people found
  accountNotes: new Map(), // userId -> what the admin just did to the account ("Account disabled")
};

const CANT_MESSAGE = "You can't message this user";
const DELETED_NAME = "Deleted user";
const NOTICE_KEY = "chat-notice"; // a notice that outlives the reload a sign-out makes
// Why the server ended this session (session-expired's reason), said on the sign-in screen.
const SIGNED_OUT = {
  disabled: { text: "Your account was disabled", bad: true },
  "account-deleted": { text: "This account was deleted" },
  "password-reset": { text: "The password was reset: log in with the new one" },
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
  if (!res.ok) throw failure(data.error || { message: `${res.status} ${res.statusText}` }, res.status);
  return data;
}

// Every event has an ack: {ok: true, ...} or {ok: false, error}.
async function call(event, payload) {
  const ack = await state.socket.timeout(10000).emitWithAck(event, payload);
  if (!ack.ok) throw failure(ack.error);
  return ack;
}

// An Error with the contract's code and details (mutedUntil, retryAfter, ...) and the HTTP status.
function failure(error, status) {
  const wait = error.details?.retryAfter;
  const err = new Error((error.message || error.code) + (wait ? ` (try again in ${wait} s)` : ""));
  return Object.assign(err, { code: error.code, details: error.details || {}, status });
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

// A time today as 14:05; another day's with its date.
function when(iso) {
  const d = new Date(iso);
  return d.toDateString() === new Date().toDateString() ? time(iso) : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function duration(seconds) {
  if (seconds % 3600 === 0) return seconds === 3600 ? "hour" : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? "minute" : `${seconds / 60} minutes`;
  return `${seconds} seconds`;
}

// A deleted account: "Deleted user" with no avatar (a direct room's peer also has no lastSeen).
const isGone = (user) => Boolean(user) && user.name === DELETED_NAME && !user.avatarUrl && !user.lastSeen;
const serverAdmin = () => state.me?.role === "admin";

// A line at the top of the app and of the sign-in screen (whichever shows); "" hides it.
function notify(text, { bad = false } = {}) {
  for (const id of ["notice", "auth-notice"]) {
    $(id).hidden = !text;
    $(id).classList.toggle("bad", bad);
    $(id).querySelector(".notice-text").textContent = text || "";
  }
}
for (const button of document.querySelectorAll(".notice-close")) button.addEventListener("click", () => notify(""));

// Signed out by the server (or by deleting the account here): a fresh page that says why.
function signedOut(notice) {
  state.socket?.disconnect(); // else a session-expired would reload the page a second time
  if (notice) sessionStorage.setItem(NOTICE_KEY, JSON.stringify(notice));
  location.reload();
}

// Every dialog's close button (and cancel) closes it; Escape does too (the browser's own).
for (const button of document.querySelectorAll(".dialog-close, .dialog-cancel")) {
  button.addEventListener("click", () => button.closest("dialog").close());
}

// -- sign in ----------------------------------------------------------------------------------------

// An emailed link lands here as /?reset=<token> (a new-password form) or /?verify=<token> (posted
// at once); the token leaves the address bar (and so the history) as soon as it is read.
async function start() {
  const params = new URLSearchParams(location.search);
  const reset = params.get("reset");
  const verify = params.get("verify");
  if (reset !== null || verify !== null) history.replaceState(null, "", location.pathname + location.hash);
  const carried = sessionStorage.getItem(NOTICE_KEY);
  if (carried) {
    sessionStorage.removeItem(NOTICE_KEY);
    const { text, bad } = JSON.parse(carried);
    notify(text, { bad });
  }
  if (reset !== null) {
    resetToken = reset;
    return showAuth("reset-form");
  }
  try {
    state.me = (await api("GET", "/api/auth/me")).user;
  } catch {
    showAuth();
    if (verify !== null) await verifyEmail(verify);
    return;
  }
  await enter();
  if (verify !== null) await verifyEmail(verify);
}

let resetToken = null;

// The sign-in screen shows one card: log in (or register), forgot password, or a new password.
function showAuth(view = "auth-form") {
  $("app").hidden = true;
  $("auth").hidden = false;
  for (const id of ["auth-form", "forgot-form", "reset-form"]) $(id).hidden = id !== view;
}

$("forgot").addEventListener("click", () => {
  $("forgot-form").elements.email.value = $("auth-form").elements.email.value;
  $("forgot-sent").hidden = true;
  showError("forgot-error");
  showAuth("forgot-form");
});
// Back from a reset link: to the app if this browser is signed in, else to log in.
for (const button of document.querySelectorAll(".back-to-login")) {
  button.addEventListener("click", () => {
    if ($("reset-form").hidden) return showAuth();
    resetToken = null;
    start();
  });
}

// The same words whatever the server answers (it answers 202 for any address): only a rate limit
// is worth telling, as it says when to try again.
$("forgot-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = event.target.elements.email.value.trim();
  showError("forgot-error");
  $("forgot-sent").hidden = true;
  try {
    await api("POST", "/api/auth/password/forgot", { email });
  } catch (err) {
    if (err.code === "RATE_LIMITED") return showError("forgot-error", err);
  }
  $("forgot-sent").textContent = "If an account uses this address, a link is on its way";
  $("forgot-sent").hidden = false;
});

// Every session of the account ends with a reset, this browser's too (the server clears the
// cookie): back to log in, with the server's word for it.
$("reset-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    const { message } = await api("POST", "/api/auth/password/reset", { token: resetToken, newPassword: form.elements["new-password"].value });
    resetToken = null;
    form.reset();
    showError("reset-error");
    state.socket?.disconnect();
    state.me = null;
    notify(message);
    showAuth();
  } catch (err) {
    showError("reset-error", err); // used, expired, replaced...: details.token says which, message says it
  }
});

// Signed in or not (the token is the proof); if it is this account, its flag turns at once.
async function verifyEmail(token) {
  try {
    const { user } = await api("POST", "/api/auth/email/verify", { token });
    if (state.me?.id === user.id) {
      state.me = { ...state.me, ...user };
      renderMe();
    }
    notify("Your email address is verified");
  } catch (err) {
    notify(err.message, { bad: true });
  }
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
    notify("");
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
  await pushForget().catch(() => {}); // a signed-out browser gets no one's notifications
  await api("POST", "/api/auth/logout").catch(() => {});
  location.reload();
});

async function enter() {
  $("auth").hidden = true;
  $("app").hidden = false;
  renderMe();
  $("my-status").value = state.me.status === "offline" ? "online" : state.me.status;
  await loadRooms();
  connect();
  initBell();
  loadBlocked();
  openFromHash();
}

function renderMe() {
  $("me-name").textContent = state.me.name;
  $("unverified").hidden = state.me.emailVerified !== false;
  $("admin-button").hidden = !serverAdmin();
}

// A notification's click opens the app at its room (sw.js): /#room=<id>, on load or in an open page.
function openFromHash() {
  const wanted = new URLSearchParams(location.hash.slice(1)).get("room");
  if (!wanted || !state.me) return;
  history.replaceState(null, "", location.pathname);
  if (state.rooms.has(wanted)) openRoom(wanted);
}
window.addEventListener("hashchange", openFromHash);

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
  socket.on("session-expired", ({ reason } = {}) => {
    if (!state.leaving) signedOut(SIGNED_OUT[reason]);
  });
  socket.on("server-shutdown", () => setConnection("Server restarting…"));

  socket.on("new-message", (m) => {
    addMessages(m.roomId, [m]);
    addToThread([m]);
    const room = state.rooms.get(m.roomId);
    if (room) {
      room.lastMessage = { text: m.text, senderName: m.sender.name, createdAt: m.createdAt };
      room.lastSeq = Math.max(room.lastSeq, m.seq);
      room.updatedAt = m.createdAt;
      if (m.roomId === state.current && document.visibilityState === "visible") markRead();
      else if (m.sender.id !== state.me.id) {
        // Mine, from another tab: read. Else unread, and a mention of me as the server counts it.
        room.unreadCount = (room.unreadCount || 0) + 1;
        if (mentionsMe(m)) room.mentionCount = (room.mentionCount || 0) + 1;
      }
    }
    clearTyping(m.roomId, m.sender.id);
    renderRooms();
  });
  // Edits, pins and a thread root's new reply count all come as message-updated.
  socket.on("message-updated", (m) => replaceMessage(m));
  socket.on("message-deleted", ({ roomId, messageId, ver }) => {
    const old = heldMessage(roomId, messageId);
    const room = state.rooms.get(roomId);
    // An unread mention deleted stops counting on the server too.
    if (old && room?.mentionCount > 0 && mentionsMe(old) && !old.deletedAt && old.seq > (room.lastReadSeq || 0)) {
      room.mentionCount -= 1;
      renderRooms();
    }
    if (old) replaceMessage({ ...old, text: "", attachments: [], reactions: [], mentions: [], pinned: null, deletedAt: new Date().toISOString(), ver });
  });
  socket.on("reaction-updated", ({ roomId, messageId, reactions, ver }) => {
    const old = heldMessage(roomId, messageId);
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
  socket.on("member-left", ({ roomId, userId, reason }) => {
    if (state.moderation?.roomId === roomId && reason === "banned") loadModeration();
    if (userId === state.me.id) {
      const room = state.rooms.get(roomId);
      if (room && reason === "banned") notify(`You were banned from ${roomTitle(room)}`, { bad: true });
      else if (room && reason === "kicked") notify(`You were removed from ${roomTitle(room)}`);
      return dropRoom(roomId);
    }
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
    // An open thread and pin list may have changed too: asked for afresh.
    if (state.thread) await openThread(state.thread.rootId, state.thread.roomId);
    if (state.pins) await openPins(state.pins.roomId);
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
  // Slow mode turned off: a wait counted down here is over (the next send tells if not).
  if (old?.slowModeSeconds && room.slowModeSeconds === 0) state.waitUntil.delete(room.id);
  // A direct room's peer deleted their account: their messages held here say so too.
  if (room.type === "direct" && isGone(room.peer) && !isGone(old?.peer)) {
    const ghost = { id: room.peer.id, name: DELETED_NAME, avatarUrl: null };
    const list = state.messages.get(room.id) || [];
    list.forEach((m, i) => m.sender.id === ghost.id && (list[i] = { ...m, sender: ghost }));
    if (room.id === state.current) renderMessages();
  }
  state.rooms.set(room.id, { unreadCount: 0, ...old, ...room });
  renderRooms();
  if (room.id === state.current) renderHeader();
}

function dropRoom(roomId) {
  state.rooms.delete(roomId);
  state.messages.delete(roomId);
  state.vers.delete(roomId);
  if (state.thread?.roomId === roomId) closeThread();
  if (state.pins?.roomId === roomId) closePins();
  if (state.profile?.roomId === roomId) $("profile").close();
  if (state.moderation?.roomId === roomId) $("moderation").close();
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
        room.type === "direct" ? (isGone(room.peer) ? h("span", { class: "dot", title: "deleted" }) : presenceDot(room.peer?.id)) : null,
        h("span", { class: isGone(room.peer) ? "room-name ghost" : "room-name" }, roomTitle(room), room.type === "private" ? " 🔒" : ""),
        room.notifications === "none" ? h("span", { class: "muted", title: "Notifications off" }, "🔕") : null,
        room.mentionCount > 0
          ? h("span", { class: "badge at-me", title: `${room.mentionCount} unread ${room.mentionCount === 1 ? "mention" : "mentions"} of you` }, `@${room.mentionCount}`)
          : null,
        room.unreadCount > 0 ? h("span", { class: "badge" }, String(room.unreadCount)) : null,
      ),
    ),
  );
}

async function openRoom(roomId) {
  if (roomId !== state.current) notify(""); // a notice belongs to where it was given
  if (state.editing && roomId !== state.current) setEditing(null);
  if (roomId !== state.current) mainPicker.reset();
  if (state.thread && state.thread.roomId !== roomId) closeThread();
  if (state.pins && state.pins.roomId !== roomId) closePins();
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
// `refused` words a refusal its own way (a direct room: the same words for a block and a setting).
async function enterRoom(getRoom, done, refused = (err) => err) {
  try {
    const { room } = await getRoom();
    done();
    upsertRoom(room);
    await openRoom(room.id);
  } catch (err) {
    showError("chat-error", refused(err));
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
  enterRoom(
    () => api("POST", "/api/rooms/direct", { userId }),
    () => {
      $("people").replaceChildren();
      $("find-user").reset();
    },
    (err) => (err.code === "FORBIDDEN" ? new Error(CANT_MESSAGE) : err),
  );
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
function merge(list, incoming) {
  for (const m of incoming) {
    const at = list.findIndex((x) => x.id === m.id || (m.clientId && x.clientId === m.clientId && x.sender.id === m.sender.id));
    if (at >= 0) list[at] = m;
    else list.push(m);
  }
  const order = (m) => m.seq || Number.MAX_SAFE_INTEGER; // pending sends last
  list.sort((a, b) => order(a) - order(b));
}

function addMessages(roomId, incoming) {
  if (!state.messages.has(roomId)) return; // not loaded yet: history will bring it
  const list = state.messages.get(roomId);
  noteVer(roomId, incoming);
  merge(list, incoming);
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

// A changed message replaces every copy held: the timeline's, the thread panel's, the pin list's.
function replaceMessage(m) {
  const list = state.messages.get(m.roomId);
  const at = list ? list.findIndex((x) => x.id === m.id) : -1;
  if (at >= 0) {
    noteVer(m.roomId, [m]);
    list[at] = m;
    if (m.roomId === state.current) renderMessages();
  }
  updateThread(m);
  updatePins(m);
}

function heldMessage(roomId, messageId) {
  const t = state.thread?.roomId === roomId ? state.thread : null;
  return (
    (state.messages.get(roomId) || []).find((x) => x.id === messageId) ||
    (t?.root?.id === messageId ? t.root : t?.replies.find((x) => x.id === messageId)) ||
    (state.pins?.roomId === roomId ? state.pins.messages?.find((x) => x.id === messageId) : undefined)
  );
}

const mentionsMe = (m) => Boolean(m.mentions?.includes(state.me.id)) && m.sender.id !== state.me.id;

let readTimer = null;
function markRead() {
  clearTimeout(readTimer);
  readTimer = setTimeout(async () => {
    const room = state.rooms.get(state.current);
    const list = state.messages.get(state.current) || [];
    const last = list.filter((m) => m.seq).pop();
    if (!room || !last || (room.lastReadSeq >= last.seq && !room.unreadCount && !room.mentionCount)) return;
    try {
      const ack = await call("message-read", { roomId: room.id, seq: last.seq });
      room.lastReadSeq = ack.lastReadSeq;
      room.unreadCount = 0;
      room.mentionCount = 0; // the server's count falls with the read pointer, past every mention held
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
  const mentions = mainPicker.mentions();
  $("text").value = "";
  mainPicker.reset();
  stopTyping();
  if (state.editing) {
    const messageId = state.editing;
    setEditing(null);
    const roomId = state.current;
    return call("edit-message", { messageId, text }).then(
      ({ message }) => replaceMessage(message),
      (err) => (showError("chat-error", new Error(refusalText(roomId, err))), noteRefusal(roomId, err)),
    );
  }
  await send(state.current, text, clientId(), { mentions });
});

// Shown at once as pending; the ack replaces it. A failed send keeps its clientId, so "retry"
// can never post it twice. A thread reply shows in the timeline and in its open thread panel.
async function send(roomId, text, id, { threadId = null, mentions = [] } = {}) {
  const pending = { id: `pending-${id}`, clientId: id, roomId, seq: 0, sender: state.me, type: "text", text, attachments: [], reactions: [], mentions, threadId, thread: null, pinned: null, createdAt: new Date().toISOString(), pending: true };
  addMessages(roomId, [pending]);
  addToThread([pending]);
  if (!threadId) scrollToEnd();
  const payload = { roomId, text, clientId: id };
  if (threadId) payload.threadId = threadId;
  if (mentions.length) payload.mentions = mentions;
  try {
    const { message } = await call("send-message", payload);
    addMessages(roomId, [message]);
    addToThread([message]);
    showError(threadId ? "thread-error" : "chat-error");
    if (state.cantMessage.delete(roomId) && roomId === state.current) renderComposer();
  } catch (err) {
    const failed = { ...pending, pending: false, failed: refusalText(roomId, err) };
    addMessages(roomId, [failed]);
    addToThread([failed]);
    noteRefusal(roomId, err);
  }
}

// What a refused write says about the room, for the composer to show: a mute (details.mutedUntil,
// null for until lifted), a wait (slow mode or the message rate: details.retryAfter), or a direct
// room closed by a block. A mute ends with no event: at its time, or "try again".
function noteRefusal(roomId, err) {
  const details = err.details || {};
  if (err.code === "FORBIDDEN" && "mutedUntil" in details) state.muted.set(roomId, details.mutedUntil);
  else if (err.code === "FORBIDDEN" && state.rooms.get(roomId)?.type === "direct") state.cantMessage.add(roomId);
  else if (err.code === "RATE_LIMITED" && details.retryAfter) state.waitUntil.set(roomId, Date.now() + details.retryAfter * 1000);
  else return;
  if (roomId === state.current) renderComposer();
}

function refusalText(roomId, err) {
  const direct = state.rooms.get(roomId)?.type === "direct";
  return err.code === "FORBIDDEN" && direct && !("mutedUntil" in (err.details || {})) ? CANT_MESSAGE : err.message;
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
    showError("chat-error", new Error(refusalText(form.get("roomId"), err)));
    noteRefusal(form.get("roomId"), err);
  }
});

$("text").addEventListener("input", () => {
  if (!state.current || state.editing) return;
  if (state.typingRoom !== state.current) {
    stopTyping();
    const roomId = (state.typingRoom = state.current);
    // A muted member (or one of a blocked direct room) is refused already here: the composer
    // says so before the message is written. (A typing rate limit says nothing worth showing.)
    call("typing-start", { roomId }).catch((err) => err.code === "FORBIDDEN" && noteRefusal(roomId, err));
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
  $("room-tools").hidden = !room;
  renderHeader();
  renderMessages();
  renderTyping();
}

// The composer closes while a write would be refused, saying why: muted (until when), a wait
// counted down to the second, a deleted peer; a block only warns (it may be lifted).
let composerTimer = null;
function renderComposer() {
  clearTimeout(composerTimer);
  const room = state.rooms.get(state.current);
  const why = room ? composerState(room) : null;
  const closed = Boolean(why?.closed);
  // The thread panel is always of the open room: its composer follows.
  for (const input of [$("text"), $("file"), $("thread-text")]) input.disabled = closed;
  for (const form of [$("composer"), $("thread-composer")]) form.querySelector('button[type="submit"]').disabled = closed;
  const note = $("composer-note");
  note.hidden = !why;
  note.classList.toggle("closed", closed);
  if (note.dataset.text !== (why?.text || "")) {
    note.dataset.text = why?.text || ""; // redrawn only when it changes: a click on "try again" lands
    note.replaceChildren(...(why ? [why.text, why.action] : []).filter(Boolean));
  }
  if (why?.ticking) composerTimer = setTimeout(renderComposer, 1000);
}

function composerState(room) {
  const now = Date.now();
  if (state.muted.has(room.id)) {
    const until = state.muted.get(room.id);
    if (until === null || Date.parse(until) > now) {
      const again = () => {
        state.muted.delete(room.id); // lifted early, as far as we know: the next send will tell
        renderComposer();
        $("text").focus();
      };
      const text = until ? `🔇 Muted until ${when(until)} ` : "🔇 Muted ";
      return { closed: true, ticking: until !== null, text, action: h("button", { type: "button", class: "link", onclick: again }, "try again") };
    }
    state.muted.delete(room.id);
  }
  if (room.type === "direct" && isGone(room.peer)) return { closed: true, text: "This account was deleted: the conversation stays readable" };
  const wait = Math.ceil(((state.waitUntil.get(room.id) || 0) - now) / 1000);
  if (wait > 0) return { closed: true, ticking: true, text: `${room.slowModeSeconds ? "Slow mode: you" : "You"} can send again in ${wait} s` };
  state.waitUntil.delete(room.id);
  if (state.cantMessage.has(room.id)) return { closed: false, text: CANT_MESSAGE };
  return null;
}

function renderHeader() {
  const room = state.rooms.get(state.current);
  $("room-name").textContent = room ? roomTitle(room) : "No room open";
  $("invite").hidden = !room?.inviteCode;
  $("invite-code").textContent = room?.inviteCode || "";
  $("room-tools").hidden = !room;
  if (room) $("notify-level").value = room.notifications || (room.type === "direct" ? "all" : "mentions");
  $("pins-button").hidden = room?.type === "direct"; // both are members there: nobody pins
  $("moderation-button").hidden = !manages(room);
  const slow = room?.slowModeSeconds ? `🐢 Slow mode: one message per ${duration(room.slowModeSeconds)}${exempt(room) ? " for members (you are exempt)" : ""}` : "";
  $("room-rules").hidden = !slow;
  $("room-rules").textContent = slow;
  renderComposer();
  const members = [...(state.members.get(state.current)?.values() || [])];
  $("room-info").replaceChildren(
    ...members.map((m) =>
      h(
        "span",
        { class: "member", "data-user": m.user.id },
        presenceDot(m.user.id),
        h("button", { type: "button", class: "link member-name", title: `${m.user.name}: profile`, onclick: () => openProfile(state.current, m.user.id) }, m.user.name),
        room && mayKick(room, m)
          ? h("button", { class: "link kick", title: `Remove ${m.user.name} from the room`, onclick: () => kick(room.id, m) }, room.type === "private" ? "kick and renew the invite code" : "kick")
          : null,
      ),
    ),
  );
}

// Owners and admins pin and unpin (a direct room has neither).
const mayPin = (room) => Boolean(room) && ["owner", "admin"].includes(room.myRole);
// ...and ban, mute and set slow mode, from which they (and server admins) are exempt.
const manages = (room) => mayPin(room) && room.type !== "direct";
const exempt = (room) => manages(room) || serverAdmin();

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
  const status = presenceOf(userId);
  return h("span", { class: `dot ${status}`, title: status });
}

function presenceOf(userId) {
  const online = userId === state.me.id ? state.socket?.connected : state.online.has(userId);
  const chosen = userId === state.me.id ? $("my-status").value : state.status.get(userId);
  return !online ? "offline" : chosen === "away" || chosen === "busy" ? chosen : "online";
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
  $("messages").replaceChildren(
    ...(state.hasMore.get(state.current) ? [h("li", { class: "muted more" }, "Scroll up for older messages")] : []),
    ...list.map((m) => renderMessage(m, m === mine ? readers : null, permissions(room))),
  );
}

// Server admins delete any message, in any room (docs/API.md, Safety and moderation).
function permissions(room) {
  return { canModerate: manages(room) || serverAdmin(), canPin: mayPin(room) };
}

const memberName = (roomId, userId) =>
  userId === state.me.id ? state.me.name : state.members.get(roomId)?.get(userId)?.user.name;

// `inThread`: drawn in the thread panel, where "reply in thread" and the thread links are moot.
function renderMessage(m, readers, { canModerate, canPin }, { inThread = false } = {}) {
  const own = m.sender.id === state.me.id;
  const classes = ["message", own ? "own" : "", m.pending ? "pending" : "", m.failed ? "failed" : "", m.deletedAt ? "deleted" : "", mentionsMe(m) && !m.deletedAt ? "mentions-me" : "", m.pinned ? "pinned" : ""];
  const body = m.deletedAt
    ? h("p", { class: "text muted" }, "Message deleted")
    : h("div", {}, m.text ? h("p", { class: "text" }, ...textWithMentions(m)) : null, ...m.attachments.map(renderAttachment));
  const actions =
    m.seq && !m.deletedAt
      ? h(
          "span",
          { class: "actions" },
          ...QUICK_REACTIONS.map((emoji) => h("button", { class: "link", title: `React ${emoji}`, onclick: () => react(m, emoji) }, emoji)),
          !inThread && !m.threadId ? h("button", { class: "link reply-thread", title: "Reply in thread", onclick: () => openThread(m.id, m.roomId) }, "reply in thread") : null,
          own && m.type === "text" ? h("button", { class: "link", onclick: () => setEditing(m) }, "edit") : null,
          own || canModerate ? h("button", { class: "link", onclick: () => remove(m) }, "delete") : null,
          canPin ? h("button", { class: "link pin-toggle", onclick: () => setPin(m, !m.pinned) }, m.pinned ? "unpin" : "pin") : null,
          !own
            ? h("button", { class: "link report", title: "Report this message to the server's admins", disabled: state.reported.has(m.id), onclick: () => openReport(m) }, state.reported.has(m.id) ? "reported" : "report")
            : null,
        )
      : null;
  const replies = m.thread?.replyCount || 0;
  const root = m.threadId && !inThread ? heldMessage(m.roomId, m.threadId) : null;
  return h(
    "li",
    { class: classes.filter(Boolean).join(" "), "data-seq": m.seq || "", "data-id": m.pending || m.failed ? false : m.id },
    h(
      "header",
      {},
      h("strong", { class: isGone(m.sender) ? "ghost" : false }, m.sender.name),
      " ",
      h("time", { datetime: m.createdAt }, time(m.createdAt)),
      m.editedAt && !m.deletedAt ? h("span", { class: "muted" }, " (edited)") : null,
      m.pinned ? h("span", { class: "pinned-note", title: `Pinned ${new Date(m.pinned.at).toLocaleString()}` }, `📌 pinned by ${memberName(m.roomId, m.pinned.by) || "an admin"}`) : null,
      actions,
    ),
    m.threadId && !inThread
      ? h("button", { class: "link in-thread", title: "Open the thread", onclick: () => openThread(m.threadId, m.roomId) }, root && !root.deletedAt && root.text ? `↳ in a thread: “${clip(root.text, 40)}”` : "↳ in a thread")
      : null,
    body,
    m.reactions.length
      ? h("p", { class: "reactions" }, ...m.reactions.map((r) => h("button", { class: r.userIds.includes(state.me.id) ? "chip mine" : "chip", onclick: () => react(m, r.emoji) }, `${r.emoji} ${r.count}`)))
      : null,
    replies && !inThread
      ? h("button", { class: "link thread-link", onclick: () => openThread(m.id, m.roomId) }, `${replies} ${replies === 1 ? "reply" : "replies"}`, h("span", { class: "muted" }, m.thread.lastReplyAt ? ` · last ${time(m.thread.lastReplyAt)}` : ""))
      : null,
    m.pending ? h("p", { class: "status" }, "Sending…") : null,
    m.failed ? h("p", { class: "status error" }, `Not sent: ${m.failed} `, h("button", { class: "link", onclick: () => send(m.roomId, m.text, m.clientId, { threadId: m.threadId, mentions: m.mentions }) }, "retry")) : null,
    readers ? h("p", { class: "status receipt" }, readers.length ? `Seen by ${readers.join(", ")}` : "Sent") : null,
  );
}

const clip = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

// The text with each `@Name` of a mentioned member drawn as a mention (yours stand out), as text
// nodes and spans: never parsed as HTML.
function textWithMentions(m) {
  const names = new Map(); // "@Name" -> it is me
  for (const id of m.mentions || []) {
    const name = memberName(m.roomId, id);
    if (name) names.set(`@${name}`, id === state.me.id);
  }
  if (!names.size) return [m.text];
  const tokens = [...names.keys()].sort((a, b) => b.length - a.length); // the longest name first
  const out = [];
  let plain = "";
  for (let i = 0; i < m.text.length; ) {
    const token = tokens.find((t) => m.text.startsWith(t, i));
    if (token) {
      if (plain) out.push(plain);
      plain = "";
      out.push(h("span", { class: names.get(token) ? "mention to-me" : "mention" }, token));
      i += token.length;
    } else {
      plain += m.text[i];
      i += 1;
    }
  }
  if (plain) out.push(plain);
  return out;
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
    replaceMessage({ ...(heldMessage(m.roomId, m.id) || m), reactions });
  } catch (err) {
    showError("chat-error", new Error(refusalText(m.roomId, err)));
    noteRefusal(m.roomId, err);
  }
}

async function remove(m) {
  if (!confirm("Delete this message?")) return;
  try {
    await call("delete-message", { messageId: m.id });
    replaceMessage({ ...m, text: "", attachments: [], reactions: [], mentions: [], pinned: null, deletedAt: new Date().toISOString() });
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

// -- mentions: the picker -------------------------------------------------------------------------

// Typing `@` in a composer lists the room's members whose name starts with what follows it;
// arrows move, Enter or Tab (or a click) insert `@Name `, Escape closes. A send carries the ids
// of the members picked whose `@Name` is still in the text.
function mentionPicker(input, list, roomOf) {
  const picked = new Map(); // userId -> name
  let options = [];
  let index = 0;
  let at = -1; // where the `@` being completed is
  let dismissed = -1; // an `@` closed with Escape (or completed) opens nothing again

  function close() {
    options = [];
    at = -1;
    list.hidden = true;
    list.replaceChildren();
  }

  function update() {
    const roomId = roomOf();
    const caret = input.selectionStart ?? input.value.length;
    const before = input.value.slice(0, caret);
    const start = before.lastIndexOf("@");
    if (input.value[dismissed] !== "@") dismissed = -1;
    const query = before.slice(start + 1).toLowerCase();
    if (!roomId || start < 0 || start === dismissed || (start > 0 && !/\s/.test(before[start - 1])) || query.length > 50) return close();
    const members = [...(state.members.get(roomId)?.values() || [])].filter((m) => m.user.id !== state.me.id);
    const matches = (name) => name.toLowerCase().startsWith(query) || name.toLowerCase().split(/\s+/).some((word) => word.startsWith(query));
    const found = members.filter((m) => matches(m.user.name)).sort((a, b) => a.user.name.localeCompare(b.user.name)).slice(0, 8);
    if (!found.length) return close();
    if (start !== at) index = 0;
    at = start;
    options = found;
    index = Math.min(index, options.length - 1);
    render();
  }

  function render() {
    list.hidden = false;
    list.replaceChildren(
      ...options.map((m, i) =>
        h(
          "li",
          { role: "option", class: i === index ? "active" : "", "aria-selected": String(i === index), "data-user": m.user.id, onmousedown: (e) => e.preventDefault(), onclick: () => choose(i) },
          presenceDot(m.user.id),
          m.user.name,
        ),
      ),
    );
  }

  function choose(i) {
    const m = options[i];
    const caret = input.selectionStart ?? input.value.length;
    const inserted = `@${m.user.name} `;
    input.value = input.value.slice(0, at) + inserted + input.value.slice(caret);
    const end = at + inserted.length;
    input.setSelectionRange(end, end);
    picked.set(m.user.id, m.user.name);
    dismissed = at;
    close();
    input.focus();
  }

  input.addEventListener("input", update);
  input.addEventListener("click", update);
  input.addEventListener("blur", close);
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      index = (index + (event.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      render();
    } else if (event.key === "Enter" || event.key === "Tab") {
      choose(index);
    } else if (event.key === "Escape") {
      dismissed = at;
      close();
    } else return;
    event.preventDefault(); // Enter picks: it does not send
  });

  return {
    mentions: () => [...picked].filter(([, name]) => input.value.includes(`@${name}`)).map(([id]) => id).slice(0, 50),
    reset() {
      picked.clear();
      dismissed = -1;
      close();
    },
  };
}

const mainPicker = mentionPicker($("text"), $("mention-picker"), () => (state.editing ? null : state.current));
const threadPicker = mentionPicker($("thread-text"), $("thread-picker"), () => state.thread?.roomId);

// -- threads: the side panel ----------------------------------------------------------------------

// Opens (or reloads) a thread: its root and the first page of replies, then pages by `after`.
async function openThread(rootId, roomId) {
  const same = state.thread?.rootId === rootId;
  const kept = same ? state.thread.replies.filter((m) => m.pending || m.failed) : [];
  const root = same ? state.thread.root : heldMessage(roomId, rootId) || null;
  if (!same) threadPicker.reset();
  state.thread = { rootId, roomId, root, replies: kept, hasMore: false };
  showError("thread-error");
  renderThread();
  try {
    const ack = await call("get-thread", { messageId: rootId, limit: PAGE });
    if (state.thread?.rootId !== rootId) return; // closed or another opened meanwhile
    state.thread.rootId = ack.root.id; // asked by a reply's id: its root
    state.thread.root = ack.root;
    merge(state.thread.replies, ack.messages);
    state.thread.hasMore = ack.hasMore;
    renderThread();
    if (!same) $("thread-text").focus();
  } catch (err) {
    showError("thread-error", err);
  }
}

function closeThread() {
  state.thread = null;
  threadPicker.reset();
  renderThread();
}
$("close-thread").addEventListener("click", closeThread);

$("thread-more").addEventListener("click", async () => {
  const t = state.thread;
  const last = t?.replies.filter((m) => m.seq).pop();
  if (!t) return;
  try {
    const ack = await call("get-thread", { messageId: t.rootId, after: last?.seq || 0, limit: PAGE });
    if (state.thread !== t) return;
    t.root = ack.root;
    merge(t.replies, ack.messages);
    t.hasMore = ack.hasMore;
    renderThread();
  } catch (err) {
    showError("thread-error", err);
  }
});

// New replies (events, acks, pending sends) of the open thread. Past a page not loaded yet, others'
// replies wait for "Show more replies" to bring them in order.
function addToThread(incoming) {
  const t = state.thread;
  if (!t) return;
  const ours = incoming.filter((m) => m.roomId === t.roomId && m.threadId === t.rootId && (!t.hasMore || m.sender.id === state.me.id));
  if (!ours.length) return;
  const box = $("thread-messages");
  const nearEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  merge(t.replies, ours);
  renderThread();
  if (nearEnd) box.scrollTop = box.scrollHeight;
}

// A change to the root (its reply count, an edit, a pin) or to a reply held.
function updateThread(m) {
  const t = state.thread;
  if (!t || t.roomId !== m.roomId) return;
  if (m.id === t.rootId) t.root = m;
  else {
    const at = t.replies.findIndex((x) => x.id === m.id);
    if (at < 0) return;
    t.replies[at] = m;
  }
  renderThread();
}

function renderThread() {
  const t = state.thread;
  $("thread").hidden = !t;
  $("app").classList.toggle("with-thread", Boolean(t));
  if (!t) {
    $("thread-root").replaceChildren();
    $("thread-messages").replaceChildren();
    return;
  }
  const perms = permissions(state.rooms.get(t.roomId));
  const count = t.root?.thread?.replyCount || 0;
  $("thread-count").textContent = t.root ? `· ${count} ${count === 1 ? "reply" : "replies"}` : "";
  $("thread-root").replaceChildren(t.root ? renderMessage(t.root, null, perms, { inThread: true }) : h("p", { class: "muted" }, "Loading…"));
  $("thread-messages").replaceChildren(...t.replies.map((m) => renderMessage(m, null, perms, { inThread: true })));
  $("thread-more").hidden = !t.hasMore;
}

$("thread-composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const t = state.thread;
  const text = $("thread-text").value.trim();
  if (!t || !text) return;
  const mentions = threadPicker.mentions();
  $("thread-text").value = "";
  threadPicker.reset();
  await send(t.roomId, text, clientId(), { threadId: t.rootId, mentions });
  const box = $("thread-messages");
  box.scrollTop = box.scrollHeight;
});

// -- pins -----------------------------------------------------------------------------------------

$("pins-button").addEventListener("click", () => (state.pins ? closePins() : openPins(state.current)));

async function openPins(roomId) {
  if (!roomId) return;
  state.pins = { roomId, messages: state.pins?.roomId === roomId ? state.pins.messages : null };
  renderPins();
  try {
    const { messages } = await api("GET", `/api/rooms/${roomId}/pins`);
    if (state.pins?.roomId !== roomId) return;
    state.pins.messages = messages;
    renderPins();
  } catch (err) {
    showError("chat-error", err);
  }
}

function closePins() {
  state.pins = null;
  renderPins();
}

// message-updated says when a message is pinned or unpinned (or changed while pinned).
function updatePins(m) {
  const p = state.pins;
  if (!p?.messages || p.roomId !== m.roomId) return;
  const was = p.messages.some((x) => x.id === m.id);
  if (!was && !m.pinned) return;
  p.messages = p.messages.filter((x) => x.id !== m.id);
  if (m.pinned && !m.deletedAt) p.messages.push(m);
  p.messages.sort((a, b) => (b.pinned.at > a.pinned.at ? 1 : b.pinned.at < a.pinned.at ? -1 : 0));
  renderPins();
}

function renderPins() {
  const p = state.pins;
  $("pins").hidden = !p;
  $("pins-button").setAttribute("aria-expanded", String(Boolean(p)));
  if (!p) return $("pins-list").replaceChildren();
  const room = state.rooms.get(p.roomId);
  if (!p.messages) return $("pins-list").replaceChildren(h("li", { class: "muted" }, "Loading…"));
  if (!p.messages.length) return $("pins-list").replaceChildren(h("li", { class: "muted" }, mayPin(room) ? "Nothing pinned yet: pin a message from its actions." : "Nothing pinned yet."));
  $("pins-list").replaceChildren(
    ...p.messages.map((m) =>
      h(
        "li",
        { class: "pin", "data-id": m.id },
        h("strong", { class: isGone(m.sender) ? "ghost" : false }, m.sender.name),
        h("span", { class: "text", title: m.text }, m.text || m.attachments.map((a) => a.name).join(", ")),
        h("time", { datetime: m.createdAt, class: "muted" }, time(m.createdAt)),
        mayPin(room) ? h("button", { class: "link", onclick: () => setPin(m, false) }, "unpin") : null,
      ),
    ),
  );
}

async function setPin(m, on) {
  try {
    const { message } = await api(on ? "POST" : "DELETE", `/api/messages/${m.id}/pin`);
    replaceMessage(message);
  } catch (err) {
    showError("chat-error", err);
  }
}

// -- notification level per room ------------------------------------------------------------------

$("notify-level").addEventListener("change", async (event) => {
  const roomId = state.current;
  try {
    const { room } = await api("PATCH", `/api/rooms/${roomId}/notifications`, { level: event.target.value });
    upsertRoom(room); // the other tabs hear room-updated
  } catch (err) {
    showError("chat-error", err);
    renderHeader(); // back to the level the server holds
  }
});

// -- a member's profile: message, block; mute and ban for the room's owner and admins ------------

function openProfile(roomId, userId) {
  const member = state.members.get(roomId)?.get(userId);
  if (!member) return;
  state.profile = { roomId, user: member.user, role: member.role, mute: undefined };
  $("ban-form").reset();
  $("mute-form").reset();
  showError("profile-error");
  renderProfile();
  $("profile").showModal();
  const room = state.rooms.get(roomId);
  if (room && mayKick(room, member)) loadProfileMute(); // is this member muted here, till when?
}

$("profile").addEventListener("close", () => (state.profile = null));

async function loadProfileMute() {
  const p = state.profile;
  try {
    const { mutes } = await api("GET", `/api/rooms/${p.roomId}/mutes`);
    if (state.profile !== p) return;
    p.mute = mutes.find((x) => x.user.id === p.user.id) || null;
    renderProfile();
  } catch (err) {
    showError("profile-error", err);
  }
}

function renderProfile() {
  const p = state.profile;
  if (!p) return;
  const { user } = p;
  const room = state.rooms.get(p.roomId);
  const me = user.id === state.me.id;
  const gone = isGone(user);
  $("profile-name").textContent = user.name;
  $("profile-name").classList.toggle("ghost", gone);
  $("profile-avatar").hidden = !user.avatarUrl;
  if (user.avatarUrl) $("profile-avatar").src = user.avatarUrl;
  $("profile-status").textContent = gone ? "" : `${p.role} · ${presenceOf(user.id)}`;
  $("profile-bio").textContent = user.bio || "";
  $("profile-note").textContent = me ? "This is you." : gone ? "This account was deleted." : "";
  $("profile-actions").hidden = me || gone;
  $("profile-message").hidden = room?.type === "direct"; // you are in your direct room already
  const blocked = state.blocked.has(user.id);
  $("profile-block").textContent = blocked ? "Unblock" : "Block";
  $("profile-block").title = blocked ? `Let ${user.name} message you directly again` : `Neither of you can message the other directly; ${user.name} is not told`;
  const moderates = Boolean(room) && !gone && mayKick(room, p);
  $("profile-moderation").hidden = !moderates;
  $("profile-room").textContent = room ? roomTitle(room) : "";
  $("profile-muted").hidden = !p.mute;
  $("profile-muted").replaceChildren(
    ...(p.mute
      ? [`🔇 Muted ${p.mute.until ? `until ${when(p.mute.until)}` : "until unmuted"} `, h("button", { type: "button", class: "link", onclick: () => unmuteFromProfile(p) }, "unmute")]
      : []),
  );
}

$("profile-message").addEventListener("click", () => {
  const { user } = state.profile;
  $("profile").close();
  openDirect(user.id);
});

$("profile-block").addEventListener("click", async () => {
  const p = state.profile;
  const on = !state.blocked.has(p.user.id);
  if (on && !confirm(`Block ${p.user.name}? Neither of you can message the other directly; ${p.user.name} is not told.`)) return;
  try {
    await setBlocked(p.user, on);
    showError("profile-error");
    renderProfile();
  } catch (err) {
    showError("profile-error", err);
  }
});

async function setBlocked(user, on) {
  await api(on ? "POST" : "DELETE", `/api/users/${user.id}/block`);
  if (on) state.blocked = new Map([[user.id, user], ...state.blocked]);
  else state.blocked.delete(user.id);
  // A direct room of ours with them: its composer says so (the other side may still block us).
  const direct = [...state.rooms.values()].find((r) => r.type === "direct" && r.peer?.id === user.id);
  if (direct && on) state.cantMessage.add(direct.id);
  else if (direct) state.cantMessage.delete(direct.id);
  renderComposer();
  renderBlocked();
}

async function loadBlocked() {
  try {
    const { users } = await api("GET", "/api/users/blocked");
    state.blocked = new Map(users.map((u) => [u.id, u]));
    renderBlocked();
  } catch (err) {
    showError("chat-error", err);
  }
}

// A mute for a chosen time or until lifted (no minutes); again: the new term replaces the old.
$("mute-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const p = state.profile;
  const minutes = Number(event.target.elements.minutes.value);
  try {
    const { mute } = await api("POST", `/api/rooms/${p.roomId}/mutes`, minutes ? { userId: p.user.id, minutes } : { userId: p.user.id });
    if (state.profile !== p) return;
    p.mute = mute;
    showError("profile-error");
    renderProfile();
  } catch (err) {
    showError("profile-error", err);
  }
});

async function unmuteFromProfile(p) {
  try {
    await api("DELETE", `/api/rooms/${p.roomId}/mutes/${p.user.id}`);
    if (state.profile !== p) return;
    p.mute = null;
    renderProfile();
  } catch (err) {
    showError("profile-error", err);
  }
}

// A ban removes the member at once (member-left, reason banned) and keeps them out by any door.
$("ban-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const p = state.profile;
  const room = state.rooms.get(p.roomId);
  const reason = event.target.elements.reason.value.trim();
  if (!confirm(`Ban ${p.user.name} from ${roomTitle(room)}? They are removed and cannot come back until unbanned.`)) return;
  try {
    await api("POST", `/api/rooms/${p.roomId}/bans`, reason ? { userId: p.user.id, reason } : { userId: p.user.id });
    state.members.get(p.roomId)?.delete(p.user.id);
    $("profile").close();
    notify(`${p.user.name} is banned from ${roomTitle(room)}`);
    if (p.roomId === state.current) renderHeader();
  } catch (err) {
    showError("profile-error", err);
  }
});

// -- a room's moderation (owner and admins): slow mode, the mutes and bans in force ---------------

$("moderation-button").addEventListener("click", () => openModeration(state.current));
$("moderation").addEventListener("close", () => (state.moderation = null));

async function openModeration(roomId) {
  if (!roomId) return;
  state.moderation = { roomId, bans: null, mutes: null };
  showError("moderation-error");
  renderModeration();
  $("moderation").showModal();
  await loadModeration();
}

async function loadModeration() {
  const mod = state.moderation;
  try {
    const [{ bans }, { mutes }] = await Promise.all([api("GET", `/api/rooms/${mod.roomId}/bans`), api("GET", `/api/rooms/${mod.roomId}/mutes`)]);
    if (state.moderation !== mod) return;
    Object.assign(mod, { bans, mutes });
    renderModeration();
  } catch (err) {
    showError("moderation-error", err);
  }
}

function renderModeration() {
  const mod = state.moderation;
  const room = mod && state.rooms.get(mod.roomId);
  if (!room) return;
  $("moderation-title").textContent = `Moderation · ${roomTitle(room)}`;
  const select = $("slow-mode");
  const seconds = String(room.slowModeSeconds || 0);
  if (![...select.options].some((o) => o.value === seconds)) select.append(h("option", { value: seconds }, duration(Number(seconds)))); // set elsewhere
  select.value = seconds;
  const people = (list, empty, row) => (!list ? [h("li", { class: "muted" }, "Loading…")] : list.length ? list.map(row) : [h("li", { class: "muted" }, empty)]);
  $("mutes-list").replaceChildren(
    ...people(mod.mutes, "Nobody is muted.", (m) =>
      h(
        "li",
        { "data-user": m.user.id },
        h("span", { class: "who" }, h("strong", {}, m.user.name), h("span", { class: "muted" }, m.until ? ` until ${when(m.until)}` : " until unmuted")),
        h("button", { type: "button", class: "link", onclick: () => lift(mod, "mutes", m.user) }, "Unmute"),
      ),
    ),
  );
  $("bans-list").replaceChildren(
    ...people(mod.bans, "Nobody is banned.", (b) =>
      h(
        "li",
        { "data-user": b.user.id },
        h("span", { class: "who" }, h("strong", { class: isGone(b.user) ? "ghost" : false }, b.user.name), h("span", { class: "muted" }, ` ${when(b.at)}${b.reason ? ` · ${b.reason}` : ""}`)),
        h("button", { type: "button", class: "link", onclick: () => lift(mod, "bans", b.user) }, "Unban"),
      ),
    ),
  );
}

async function lift(mod, kind, user) {
  try {
    await api("DELETE", `/api/rooms/${mod.roomId}/${kind}/${user.id}`);
    mod[kind] = mod[kind].filter((x) => x.user.id !== user.id);
    showError("moderation-error");
    renderModeration();
  } catch (err) {
    showError("moderation-error", err);
  }
}

$("slow-mode").addEventListener("change", async (event) => {
  const mod = state.moderation;
  try {
    const { room } = await api("PATCH", `/api/rooms/${mod.roomId}`, { slowModeSeconds: Number(event.target.value) });
    upsertRoom(room); // every member hears room-updated
    showError("moderation-error");
  } catch (err) {
    showError("moderation-error", err);
  }
  renderModeration(); // what the server holds
});

// -- reporting a message ------------------------------------------------------------------------

function openReport(m) {
  state.reporting = m;
  $("report-quote").textContent = `${m.sender.name}: ${m.text || m.attachments.map((a) => a.name).join(", ")}`;
  $("report-form").reset();
  showError("report-error");
  $("report").showModal();
}

// One report per person and message: a second is CONFLICT, which says so and changes nothing.
$("report-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const m = state.reporting;
  const reason = event.target.elements.reason.value.trim();
  if (!m || !reason) return;
  try {
    await api("POST", `/api/messages/${m.id}/report`, { reason });
    notify("Reported: the server's admins will look at it");
  } catch (err) {
    if (err.status !== 409) return showError("report-error", err);
    notify("Already reported");
  }
  state.reported.add(m.id);
  $("report").close();
  renderMessages();
  renderThread();
});

// -- your account: email verification, who may message you, blocks, your data, deletion ---------

$("account-button").addEventListener("click", () => {
  showError("account-error");
  $("verify-result").textContent = "";
  $("delete-account").reset();
  renderAccount();
  $("account").showModal();
  loadBlocked(); // blocks made in another tab
});
$("unverified").addEventListener("click", () => $("account-button").click());

function renderAccount() {
  const verified = state.me.emailVerified !== false;
  $("account-email").textContent = state.me.email;
  $("email-state").textContent = verified ? "verified" : "not verified";
  $("email-state").className = verified ? "tag ok" : "tag warn";
  $("verify-request").hidden = verified;
  $("allow-direct").value = state.me.allowDirectFrom || "everyone";
  renderBlocked();
}

function renderBlocked() {
  const users = [...state.blocked.values()];
  $("blocked-list").replaceChildren(
    ...(users.length
      ? users.map((user) =>
          h(
            "li",
            { "data-user": user.id },
            h("span", { class: "who" }, user.name),
            h("button", { type: "button", class: "link", onclick: () => setBlocked(user, false).catch((err) => showError("account-error", err)) }, "Unblock"),
          ),
        )
      : [h("li", { class: "muted" }, "Nobody.")]),
  );
}

// 202 with the server's words: a link on its way, or (verified meanwhile, in another tab or
// browser) nothing to send; an older server said the latter with 409.
$("verify-request").addEventListener("click", async () => {
  let said;
  try {
    said = (await api("POST", "/api/auth/email/verify-request")).message;
  } catch (err) {
    if (err.status !== 409) return showError("account-error", err);
    said = "Already verified";
  }
  showError("account-error");
  const { user } = await api("GET", "/api/users/me").catch(() => ({ user: null }));
  if (user) {
    state.me = { ...state.me, ...user };
    renderMe();
    renderAccount();
  }
  $("verify-result").textContent = said;
});

$("allow-direct").addEventListener("change", async (event) => {
  try {
    const { user } = await api("PATCH", "/api/users/me", { allowDirectFrom: event.target.value });
    state.me = { ...state.me, ...user };
    showError("account-error");
  } catch (err) {
    showError("account-error", err);
  }
  renderAccount();
});

// The password again; on 204 every session of the account is over: back to sign in.
$("delete-account").addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = event.target.elements.password.value;
  if (!confirm("Delete your account for good? Your messages stay, shown as sent by “Deleted user”.")) return;
  state.leaving = true; // the server cuts this socket (session-expired) before it answers
  try {
    await api("DELETE", "/api/users/me", { password });
    localStorage.removeItem(pushFlag());
    signedOut({ text: "Your account was deleted" });
  } catch (err) {
    state.leaving = false;
    showError("account-error", err.status === 403 ? new Error("Wrong password") : err);
  }
});

// -- the server admin: reports, and accounts to disable or enable ---------------------------------

$("admin-button").addEventListener("click", () => {
  showError("admin-error");
  $("admin").showModal();
  loadReports();
});
$("report-status").addEventListener("change", loadReports);
$("reports-refresh").addEventListener("click", loadReports);

async function loadReports() {
  const status = $("report-status").value;
  state.reports = null;
  renderReports();
  try {
    const { reports } = await api("GET", `/api/admin/reports?status=${status}&limit=50`);
    if ($("report-status").value !== status) return; // switched meanwhile
    state.reports = reports;
    showError("admin-error");
  } catch (err) {
    state.reports = [];
    showError("admin-error", err);
  }
  renderReports();
}

function renderReports() {
  const reports = state.reports;
  const open = $("report-status").value === "open";
  if (!reports) return $("reports-list").replaceChildren(h("li", { class: "muted" }, "Loading…"));
  if (!reports.length) return $("reports-list").replaceChildren(h("li", { class: "muted" }, open ? "No open reports." : "No resolved reports."));
  $("reports-list").replaceChildren(
    ...reports.map((r) => {
      const m = r.message;
      const quoted = !m ? "(its room was deleted)" : m.deletedAt ? "Message deleted" : m.text || m.attachments.map((a) => a.name).join(", ");
      return h(
        "li",
        { class: "report", "data-report": r.id },
        h(
          "p",
          { class: "report-head" },
          h("strong", { class: r.reporter ? false : "ghost" }, r.reporter?.name || DELETED_NAME),
          " reported ",
          m ? h("strong", { class: isGone(m.sender) ? "ghost" : false }, m.sender.name) : "a message",
          h("time", { datetime: r.createdAt, class: "muted" }, ` · ${when(r.createdAt)}`),
        ),
        h("blockquote", { class: m && !m.deletedAt ? "quote" : "quote muted" }, quoted),
        h("p", { class: "reason" }, "Reason: ", r.reason),
        r.status === "open"
          ? h(
              "div",
              { class: "row actions-row" },
              h("button", { type: "button", class: "secondary", onclick: () => resolveReport(r, "dismiss") }, "Dismiss"),
              m && !m.deletedAt ? h("button", { type: "button", class: "danger", onclick: () => resolveReport(r, "delete-message") }, "Delete message") : null,
              ...accountButtons(m?.sender, "sender"),
            )
          : h(
              "div",
              { class: "row actions-row" },
              h("span", { class: "muted resolved" }, `Resolved: ${r.action === "delete-message" ? "message deleted" : "dismissed"}${r.resolvedAt ? ` · ${when(r.resolvedAt)}` : ""}`),
              ...accountButtons(m?.sender, "sender"),
            ),
      );
    }),
  );
}

// Disable ends every session of the account at once; enable lets its owner sign in again. The
// server says nothing of an account's state, so both are offered, with what was done here.
function accountButtons(user, who) {
  if (!user || isGone(user) || user.id === state.me.id) return [];
  return [
    h("button", { type: "button", class: "secondary", onclick: () => setDisabled(user, true) }, `Disable ${who}`),
    h("button", { type: "button", class: "secondary", onclick: () => setDisabled(user, false) }, `Enable ${who}`),
    state.accountNotes.has(user.id) ? h("span", { class: "muted account-note" }, state.accountNotes.get(user.id)) : null,
  ];
}

async function resolveReport(r, action) {
  if (action === "delete-message" && !confirm("Delete this message for everyone?")) return;
  try {
    await api("POST", `/api/admin/reports/${r.id}/resolve`, { action });
    // Deleting the message resolves every open report of it.
    state.reports = state.reports.filter((x) => x.id !== r.id && !(action === "delete-message" && x.message?.id === r.message?.id));
    showError("admin-error");
    renderReports();
  } catch (err) {
    showError("admin-error", err);
    if (err.status === 409) loadReports(); // resolved meanwhile by another admin
  }
}

async function setDisabled(user, off) {
  if (off && !confirm(`Disable ${user.name}'s account? Every session of it ends at once.`)) return;
  try {
    await api("POST", `/api/admin/users/${user.id}/${off ? "disable" : "enable"}`);
    state.accountNotes.set(user.id, off ? "Account disabled" : "Account enabled");
    showError("admin-error");
  } catch (err) {
    showError("admin-error", err);
  }
  renderReports();
  renderAdminUsers();
}

$("admin-find").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const q = encodeURIComponent(event.target.elements.q.value.trim());
    state.adminUsers = (await api("GET", `/api/users/search?q=${q}&limit=10`)).users;
    showError("admin-error");
  } catch (err) {
    showError("admin-error", err);
  }
  renderAdminUsers();
});

function renderAdminUsers() {
  $("admin-users").replaceChildren(
    ...state.adminUsers.map((user) => h("li", { "data-user": user.id }, h("span", { class: "who" }, user.name), ...accountButtons(user, "account"))),
  );
}

// -- Web Push: the bell -----------------------------------------------------------------------------

// The service worker's scope is /static/ (where it is served): it needs to control no page to show
// notifications, and its click handler finds or opens the app at `/`.
const PUSH_SUPPORTED = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
const SW_URL = "/static/sw.js";
const pushFlag = () => `chat-push:${state.me.id}`; // this browser's endpoint, posted for this account

function setBell(on) {
  const bell = $("bell");
  bell.textContent = on ? "🔔" : "🔕";
  bell.setAttribute("aria-pressed", String(on));
  bell.title = on ? "Notifications on for this device: click to turn them off" : "Notify me on this device when I am away";
}

const bellOn = () => $("bell").getAttribute("aria-pressed") === "true";

async function initBell() {
  if (!PUSH_SUPPORTED) return; // no service workers (plain http on a non-local host): no bell
  $("bell").hidden = false;
  let on = false;
  try {
    const sub = await (await navigator.serviceWorker.getRegistration(SW_URL))?.pushManager.getSubscription();
    on = Boolean(sub) && Notification.permission === "granted" && localStorage.getItem(pushFlag()) === sub.endpoint;
    if (on) await api("POST", "/api/push/subscriptions", sub.toJSON()); // ours again after a logout
  } catch {
    on = false;
  }
  setBell(on);
}

function activated(registration) {
  if (registration.active) return Promise.resolve(registration);
  const worker = registration.installing || registration.waiting;
  return new Promise((resolve, reject) => {
    worker.addEventListener("statechange", () => {
      if (worker.state === "activated") resolve(registration);
      else if (worker.state === "redundant") reject(new Error("The notification worker failed to start"));
    });
  });
}

function fromBase64Url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

const sameBytes = (a, b) => a && a.byteLength === b.byteLength && new Uint8Array(a).every((x, i) => x === b[i]);

async function pushOn() {
  if ((await Notification.requestPermission()) !== "granted") throw new Error("Notifications are blocked for this site: allow them in the browser's site settings");
  const { publicKey } = await api("GET", "/api/push/vapid-public-key");
  const registration = await activated(await navigator.serviceWorker.register(SW_URL));
  const key = fromBase64Url(publicKey);
  let sub = await registration.pushManager.getSubscription();
  if (sub && !sameBytes(sub.options.applicationServerKey, key)) {
    await sub.unsubscribe(); // made for another server key: the push service would refuse it
    sub = null;
  }
  sub ||= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  await api("POST", "/api/push/subscriptions", sub.toJSON());
  localStorage.setItem(pushFlag(), sub.endpoint);
}

async function pushOff() {
  const sub = await (await navigator.serviceWorker.getRegistration(SW_URL))?.pushManager.getSubscription();
  const endpoint = sub?.endpoint || localStorage.getItem(pushFlag());
  if (endpoint) await api("DELETE", "/api/push/subscriptions", { endpoint });
  localStorage.removeItem(pushFlag());
  await sub?.unsubscribe();
}

// On logout: the server forgets this browser for the account; the flag stays, so logging in again
// as the same person turns it back on.
async function pushForget() {
  if (!PUSH_SUPPORTED || !bellOn()) return;
  const sub = await (await navigator.serviceWorker.getRegistration(SW_URL))?.pushManager.getSubscription();
  if (sub) await api("DELETE", "/api/push/subscriptions", { endpoint: sub.endpoint });
}

$("bell").addEventListener("click", async () => {
  const bell = $("bell");
  if (bell.disabled) return;
  bell.disabled = true;
  const on = bellOn();
  try {
    await (on ? pushOff() : pushOn());
    setBell(!on);
    showError("chat-error");
  } catch (err) {
    showError("chat-error", err);
  } finally {
    bell.disabled = false;
  }
});

// A click on a notification while the app is open (sw.js): that room.
if (PUSH_SUPPORTED) {
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "open-room" && state.rooms.has(event.data.roomId)) openRoom(event.data.roomId);
  });
  navigator.serviceWorker.startMessages();
}

start();
