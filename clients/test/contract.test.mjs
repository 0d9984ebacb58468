// The wire contract walked as an app would, with socket.io-client 4 and axios, against the real
// server started by `python run.py` (embedded database). Run: npm test --prefix clients (or pytest).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import axios from "axios";
import { io } from "socket.io-client";
import { chatServer } from "../lib/server.mjs";
import { linkToken, smtpSink } from "../lib/smtp.mjs";

// Ack bounds catch a stuck suite; a busy machine (one core taken) must still pass.
const ACK = 30000;

let server, base, sink;
// The one server admin (ADMIN_EMAILS) of this run's server.
const ADMIN_EMAIL = `root-${Date.now()}@example.com`;

// A browser-like client: axios plus the HTTP-only cookie and an Origin, as a page would send.
function browser() {
  let cookie = "";
  const api = axios.create({ baseURL: base, validateStatus: () => true, headers: { Origin: base } });
  api.interceptors.request.use((config) => {
    if (cookie) config.headers.Cookie = cookie;
    return config;
  });
  api.interceptors.response.use((res) => {
    const set = res.headers["set-cookie"];
    if (set) cookie = set[0].split(";")[0];
    return res;
  });
  return { api, cookie: () => cookie };
}

const once = (socket, event, match = () => true, ms = 5000) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} in ${ms} ms`)), ms);
    const handler = (data) => {
      if (match(data)) {
        clearTimeout(timer);
        socket.off(event, handler);
        resolve(data);
      }
    };
    socket.on(event, handler);
  });

const connected = (socket) =>
  new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });

let n = 0;
async function account(name, email = `${name.toLowerCase()}-${Date.now()}-${n++}@example.com`) {
  const b = browser();
  const reg = await b.api.post("/api/auth/register", { name, email, password: "correct horse" });
  assert.equal(reg.status, 201);
  return { ...b, user: reg.data.user, token: reg.data.token, email };
}

before(async () => {
  sink = await smtpSink(); // reset and verification emails land here
  server = await chatServer({ ADMIN_EMAILS: ADMIN_EMAIL, SMTP_URL: sink.url });
  base = server.base;
});
after(async () => {
  await server?.stop();
  await sink?.close();
});

test("register, log in with the cookie, and read /me", async () => {
  const ann = await account("Ann");
  const fresh = browser();
  const login = await fresh.api.post("/api/auth/login", { email: ann.email, password: "correct horse" });
  assert.equal(login.status, 200);
  assert.match(login.headers["set-cookie"][0], /HttpOnly/i);
  const me = await fresh.api.get("/api/auth/me");
  assert.equal(me.status, 200);
  assert.equal(me.data.user.id, ann.user.id);
});

test("connect with the cookie over websocket and with auth.token over polling-then-upgrade", async () => {
  const ann = await account("Ann");
  const byCookie = io(base, { transports: ["websocket"], extraHeaders: { Cookie: ann.cookie() } });
  await connected(byCookie);
  const byToken = io(base, { auth: { token: ann.token } }); // polling first, then upgrade
  await connected(byToken);
  if (byToken.io.engine.transport.name !== "websocket") {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no upgrade")), 5000);
      byToken.io.engine.once("upgrade", () => (clearTimeout(timer), resolve()));
    });
  }
  assert.equal(byToken.io.engine.transport.name, "websocket");
  const ack = await byToken.timeout(ACK).emitWithAck("user-status", { status: "away" });
  assert.deepEqual(ack, { ok: true });
  const refused = io(base, { transports: ["websocket"], auth: { token: "nope" }, reconnection: false });
  const err = await new Promise((r) => refused.once("connect_error", r));
  assert.equal(err.data.code, "UNAUTHORIZED");
  for (const s of [byCookie, byToken, refused]) s.close();
});

test("private room by invite code; acks, clientId resends, typing, receipts, sync", async () => {
  const ann = await account("Ann");
  const bob = await account("Bob");
  const room = (await ann.api.post("/api/rooms", { name: "Team", type: "private" })).data.room;
  assert.ok(room.inviteCode);
  const a = io(base, { transports: ["websocket"], auth: { token: ann.token } });
  const b = io(base, { transports: ["websocket"], auth: { token: bob.token } });
  await Promise.all([connected(a), connected(b)]);
  const joined = await b.timeout(ACK).emitWithAck("join-room", { roomId: room.id, inviteCode: room.inviteCode });
  assert.equal(joined.ok, true);

  const arriving = once(b, "new-message");
  const ack = await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "hello", clientId: "js-1" });
  assert.equal(ack.ok, true);
  assert.deepEqual(await arriving, ack.message);
  // A resend after a lost ack: the original back, nothing broadcast twice.
  const again = await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "hello", clientId: "js-1" });
  assert.equal(again.message.id, ack.message.id);

  const typing = once(b, "user-typing");
  await a.timeout(ACK).emitWithAck("typing-start", { roomId: room.id });
  assert.equal((await typing).isTyping, true);

  const mine = (await bob.api.get("/api/rooms/mine")).data.rooms.find((r) => r.id === room.id);
  assert.equal(mine.unreadCount, 1);
  const receipt = once(a, "message-read-receipt");
  const read = await b.timeout(ACK).emitWithAck("message-read", { roomId: room.id, seq: 1 });
  assert.deepEqual(read, { ok: true, lastReadSeq: 1 });
  assert.equal((await receipt).userId, bob.user.id);

  b.disconnect();
  for (let i = 0; i < 5; i++) await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: `missed ${i}` });
  b.connect();
  await connected(b);
  const sync = await b.timeout(ACK).emitWithAck("sync", { rooms: { [room.id]: 1 } });
  assert.deepEqual(sync.rooms[0].messages.map((m) => m.text), ["missed 0", "missed 1", "missed 2", "missed 3", "missed 4"]);
  a.close();
  b.close();
});

test("an upload through FormData appears as a message; logout ends the socket", async () => {
  const ann = await account("Ann");
  const bob = await account("Bob");
  const room = (await ann.api.post("/api/rooms", { name: "Files" })).data.room;
  await bob.api.post(`/api/rooms/${room.id}/join`, {});
  const b = io(base, { transports: ["websocket"], extraHeaders: { Cookie: bob.cookie() } });
  await connected(b);
  const arriving = once(b, "new-message");
  const form = new FormData();
  form.append("roomId", room.id);
  form.append("file", new Blob(["plain notes\n"], { type: "text/plain" }), "notes.txt");
  const up = await ann.api.post("/api/uploads", form);
  assert.equal(up.status, 201);
  const message = await arriving;
  assert.equal(message.type, "file");
  assert.equal(message.attachments[0].name, "notes.txt");

  const expired = once(b, "session-expired");
  const gone = new Promise((r) => b.once("disconnect", r));
  assert.equal((await bob.api.post("/api/auth/logout")).status, 200);
  assert.deepEqual(await expired, { reason: "logout" });
  assert.equal(await gone, "io server disconnect");
});

// Resolves with the events of one kind that arrive within `ms`.
const collect = (socket, event, ms) =>
  new Promise((resolve) => {
    const seen = [];
    const handler = (data) => seen.push(data);
    socket.on(event, handler);
    setTimeout(() => (socket.off(event, handler), resolve(seen)), ms);
  });

test("presence with two tabs: online once, offline only after the last tab and the grace", async () => {
  const ann = await account("Ann");
  const bob = await account("Bob");
  const room = (await ann.api.post("/api/rooms", { name: "Pair", type: "private" })).data.room;
  assert.equal((await bob.api.post("/api/rooms/join", { inviteCode: room.inviteCode })).status, 200);
  const watcher = io(base, { transports: ["websocket"], extraHeaders: { Cookie: bob.cookie() } });
  await connected(watcher);

  const tab = () => io(base, { transports: ["websocket"], extraHeaders: { Cookie: ann.cookie() }, forceNew: true });
  const online = once(watcher, "user-online", (e) => e.userId === ann.user.id);
  const tab1 = tab();
  await connected(tab1);
  assert.deepEqual(await online, { userId: ann.user.id });

  const duringSecondTab = collect(watcher, "user-online", 500);
  const tab2 = tab();
  const welcome = once(tab2, "online-users");
  await connected(tab2);
  assert.ok((await welcome).userIds.includes(bob.user.id));
  assert.deepEqual(await duringSecondTab, [], "a second tab announces nothing");

  // The server's grace is 1 s here; one tab closing must not flap Ann offline.
  const afterFirstClose = collect(watcher, "user-offline", 1800);
  tab1.close();
  assert.deepEqual(await afterFirstClose, [], "still online while one tab is open");

  const offline = once(watcher, "user-offline", (e) => e.userId === ann.user.id);
  const closedAt = Date.now();
  tab2.close();
  const event = await offline;
  assert.ok(Date.now() - closedAt >= 900, "offline waits out the grace period");
  assert.ok(Date.parse(event.lastSeen) <= Date.now());
  const seen = (await bob.api.get(`/api/users/${ann.user.id}`)).data.user;
  assert.equal(seen.online, false);
  watcher.close();
});

test("sync after restarting the server process returns exactly what was missed", async () => {
  const ann = await account("Ann");
  const bob = await account("Bob");
  const room = (await ann.api.post("/api/rooms", { name: "Restart" })).data.room;
  await bob.api.post(`/api/rooms/${room.id}/join`, {});
  // socket.io-client's own reconnection, as an app ships it (shortened delays only).
  const b = io(base, { auth: { token: bob.token }, reconnectionDelay: 200, reconnectionDelayMax: 500 });
  await connected(b);
  const before = await b.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "before", clientId: "r-1" });
  assert.equal(before.ok, true);
  const lastSeen = before.message.seq;

  const told = once(b, "server-shutdown", () => true, 10000);
  const dropped = new Promise((r) => b.once("disconnect", r));
  await server.stop();
  await told; // graceful stop says so before closing the transport
  assert.equal(await dropped, "transport close"); // so the client reconnects by itself
  await server.start();

  // Sent while Bob may or may not be back: sync must return them either way, once each.
  for (const text of ["one", "two", "three"]) {
    const sent = await ann.api.post(`/api/rooms/${room.id}/messages`, { text });
    assert.equal(sent.status, 201);
  }
  if (!b.connected) await once(b, "connect", () => true, 15000);
  const sync = await b.timeout(ACK).emitWithAck("sync", { rooms: { [room.id]: lastSeen } });
  assert.equal(sync.ok, true);
  assert.deepEqual(sync.rooms[0].messages.map((m) => m.text), ["one", "two", "three"]);
  assert.equal(sync.rooms[0].hasMore, false);
  // The message acked before the restart survived it, and its clientId still deduplicates.
  const resend = await b.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "before", clientId: "r-1" });
  assert.equal(resend.message.id, before.message.id);
  b.close();
});

test("a resend after a dropped ack stores and delivers the message once", async () => {
  const ann = await account("Ann");
  const bob = await account("Bob");
  const room = (await ann.api.post("/api/rooms", { name: "Flaky" })).data.room;
  await bob.api.post(`/api/rooms/${room.id}/join`, {});
  const b = io(base, { transports: ["websocket"], auth: { token: bob.token } });
  const a = io(base, { transports: ["websocket"], auth: { token: ann.token }, reconnectionDelay: 100 });
  await Promise.all([connected(a), connected(b)]);
  const delivered = [];
  b.on("new-message", (m) => delivered.push(m));

  // The event leaves, then the connection drops before its ack can come back.
  let acked = false;
  a.emit("send-message", { roomId: room.id, text: "did it go?", clientId: "drop-1" }, () => (acked = true));
  a.io.engine.close();
  await once(a, "connect", () => true, 10000); // socket.io-client reconnects by itself
  assert.equal(acked, false, "the first ack was lost with the connection");

  const resend = await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "did it go?", clientId: "drop-1" });
  assert.equal(resend.ok, true);
  await new Promise((r) => setTimeout(r, 300)); // room for a duplicate broadcast to show up
  const history = await b.timeout(ACK).emitWithAck("get-history", { roomId: room.id });
  assert.deepEqual(history.messages.map((m) => m.id), [resend.message.id]);
  assert.deepEqual(delivered.map((m) => m.id), [resend.message.id]);
  a.close();
  b.close();
});

test("sync by change cursor after a disconnect: edits, tombstones, reactions, a new direct room", async () => {
  const ann = await account("Ann");
  const bob = await account("Bob");
  const room = (await ann.api.post("/api/rooms", { name: "Cursor" })).data.room;
  assert.equal(room.lastVer, 0);
  await bob.api.post(`/api/rooms/${room.id}/join`, {});
  const a = io(base, { transports: ["websocket"], auth: { token: ann.token } });
  const b = io(base, { transports: ["websocket"], auth: { token: bob.token } });
  await Promise.all([connected(a), connected(b)]);

  // Bob's client keeps every message by id, and the newest ver per room as its cursor.
  const held = new Map();
  const cursors = {};
  const keep = (m) => {
    held.set(m.id, m);
    cursors[m.roomId] = Math.max(cursors[m.roomId] ?? 0, m.ver);
  };
  b.on("new-message", keep);
  const sent = [];
  for (const text of ["one", "two", "three"]) {
    const arriving = once(b, "new-message", (m) => m.text === text);
    sent.push((await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text })).message);
    await arriving;
  }
  assert.deepEqual(cursors, { [room.id]: 3 });

  b.disconnect();
  const edit = await a.timeout(ACK).emitWithAck("edit-message", { messageId: sent[0].id, text: "one (edited)" });
  assert.equal(edit.message.ver, 4);
  assert.deepEqual(await a.timeout(ACK).emitWithAck("delete-message", { messageId: sent[1].id }), { ok: true });
  await a.timeout(ACK).emitWithAck("react-message", { messageId: sent[2].id, emoji: "👍" });
  await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "four" });
  const direct = (await ann.api.post("/api/rooms/direct", { userId: bob.user.id })).data.room;

  b.connect();
  await connected(b);
  const sync = await b.timeout(ACK).emitWithAck("sync", { rooms: { [room.id]: { ver: cursors[room.id] } } });
  assert.equal(sync.ok, true);
  const [entry] = sync.rooms;
  assert.deepEqual(entry.messages.map((m) => m.ver), [4, 5, 6, 7]);
  assert.equal(entry.ver, 7);
  assert.equal(entry.hasMore, false);
  for (const m of entry.messages) keep(m);
  assert.deepEqual(sync.joined.map((r) => [r.id, r.type, r.lastVer]), [[direct.id, "direct", 0]]);

  // Bob now holds exactly what a fresh history load shows.
  const fresh = (await bob.api.get(`/api/rooms/${room.id}/messages`)).data.messages;
  assert.deepEqual([...held.values()].sort((x, y) => x.seq - y.seq), fresh);
  assert.deepEqual(fresh.map((m) => [m.text, Boolean(m.editedAt), Boolean(m.deletedAt), m.reactions.length]), [
    ["one (edited)", true, false, 0],
    ["", false, true, 0],
    ["three", false, false, 1],
    ["four", false, false, 0],
  ]);
  // The REST twin agrees.
  const changes = await bob.api.get(`/api/rooms/${room.id}/changes`, { params: { since: 3 } });
  assert.deepEqual(changes.data, { messages: entry.messages, ver: 7, hasMore: false });
  const future = await b.timeout(ACK).emitWithAck("sync", { rooms: { [room.id]: { ver: 8 } } });
  assert.equal(future.error.code, "VALIDATION_ERROR");
  a.close();
  b.close();
});

// -- mentions, threads, pins, notification levels (CONTRACT.md "Mentions, threads and pins") -----

// Ann owns a room that Bob joined; each has a socket. Cat is signed up but not a member.
async function pair(t, kind = "public") {
  const ann = await account("Ann");
  const bob = await account("Bob");
  const room = (await ann.api.post("/api/rooms", { name: "Threads", type: kind })).data.room;
  const joined = kind === "public" ? await bob.api.post(`/api/rooms/${room.id}/join`, {}) : await bob.api.post("/api/rooms/join", { inviteCode: room.inviteCode });
  assert.equal(joined.status, 200);
  const a = io(base, { transports: ["websocket"], auth: { token: ann.token } });
  const b = io(base, { transports: ["websocket"], auth: { token: bob.token } });
  // Closed however the test ends: a socket left open keeps reconnecting and node never exits.
  t.after(() => (a.close(), b.close()));
  await Promise.all([connected(a), connected(b)]);
  return { ann, bob, room, a, b };
}

const mine = async (who, roomId) => (await who.api.get("/api/rooms/mine")).data.rooms.find((r) => r.id === roomId);

test("mentions: members only, counted in /api/rooms/mine until read, listed by GET /api/mentions", async (t) => {
  const { ann, bob, room, a, b } = await pair(t);
  const cat = await account("Cat");
  const plain = await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "morning" });
  assert.deepEqual([plain.message.mentions, plain.message.threadId, plain.message.thread, plain.message.pinned], [[], null, null, null]);

  const arriving = once(b, "new-message", (m) => m.text.startsWith("@Bob"));
  const sent = await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "@Bob can you look?", mentions: [bob.user.id] });
  assert.equal(sent.ok, true);
  assert.deepEqual(sent.message.mentions, [bob.user.id]);
  assert.deepEqual((await arriving).mentions, [bob.user.id]);

  const listed = await mine(bob, room.id);
  assert.deepEqual([listed.mentionCount, listed.unreadCount, listed.notifications], [1, 2, "mentions"]);
  assert.equal((await mine(ann, room.id)).mentionCount, 0);

  // A non-member cannot be mentioned, over either door; nothing refused takes a seq.
  const refused = await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "@Cat", mentions: [cat.user.id] });
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, "VALIDATION_ERROR");
  const rest = await ann.api.post(`/api/rooms/${room.id}/messages`, { text: "@Cat", mentions: [cat.user.id] });
  assert.equal(rest.status, 400);
  assert.equal(rest.data.error.code, "VALIDATION_ERROR");

  const page = await bob.api.get("/api/mentions", { params: { limit: 10 } });
  assert.equal(page.status, 200);
  assert.deepEqual(page.data.messages.map((m) => m.id), [sent.message.id]);
  assert.equal(page.data.hasMore, false);

  // Reading past it: the count falls with the read pointer.
  await b.timeout(ACK).emitWithAck("message-read", { roomId: room.id, seq: sent.message.seq });
  assert.equal((await mine(bob, room.id)).mentionCount, 0);
  const next = await ann.api.post(`/api/rooms/${room.id}/messages`, { text: "@Bob again", mentions: [bob.user.id] });
  assert.equal(next.status, 201);
  assert.equal(next.data.message.seq, sent.message.seq + 1);
  assert.equal((await mine(bob, room.id)).mentionCount, 1);
});

test("a thread: replies with threadId, the root's message-updated summary, get-thread pages", async (t) => {
  const { ann, bob, room, a, b } = await pair(t);
  const root = (await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "what do we ship?" })).message;
  assert.equal(root.thread, null);

  const rootChange = once(a, "message-updated", (m) => m.id === root.id && m.thread?.replyCount === 1);
  const replyArrives = once(a, "new-message", (m) => m.threadId === root.id);
  const reply = await b.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "the mockups", threadId: root.id });
  assert.equal(reply.ok, true);
  assert.equal(reply.message.threadId, root.id);
  assert.equal((await replyArrives).id, reply.message.id); // a reply is an ordinary message of the room
  const updated = await rootChange;
  assert.equal(updated.thread.replyCount, 1);
  assert.deepEqual(updated.thread.participantIds, [bob.user.id]);
  assert.equal(updated.thread.lastReplyAt, reply.message.createdAt);
  assert.ok(updated.ver > root.ver);

  // A reply to a reply is refused; a root from another room too.
  const deeper = await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "nested", threadId: reply.message.id });
  assert.equal(deeper.error.code, "VALIDATION_ERROR");
  const other = (await ann.api.post("/api/rooms", { name: "Elsewhere" })).data.room;
  const astray = await a.timeout(ACK).emitWithAck("send-message", { roomId: other.id, text: "astray", threadId: root.id });
  assert.equal(astray.error.code, "VALIDATION_ERROR");

  // The root's summary is counted after the replies are acked (it never holds up an ack), and
  // announced as message-updated: read the thread once the fourth reply is counted.
  const counted = once(b, "message-updated", (m) => m.id === root.id && m.thread?.replyCount === 4);
  for (let i = 2; i <= 4; i++) {
    const more = await ann.api.post(`/api/rooms/${room.id}/messages`, { text: `reply ${i}`, threadId: root.id });
    assert.equal(more.status, 201);
  }
  await counted;
  const first = await b.timeout(ACK).emitWithAck("get-thread", { messageId: root.id, limit: 2 });
  assert.equal(first.ok, true);
  assert.equal(first.root.id, root.id);
  assert.equal(first.root.thread.replyCount, 4);
  assert.deepEqual([...first.root.thread.participantIds].sort(), [ann.user.id, bob.user.id].sort());
  assert.deepEqual(first.messages.map((m) => m.text), ["the mockups", "reply 2"]);
  assert.equal(first.hasMore, true);
  const second = await b.timeout(ACK).emitWithAck("get-thread", { messageId: root.id, after: first.messages.at(-1).seq, limit: 2 });
  assert.deepEqual(second.messages.map((m) => m.text), ["reply 3", "reply 4"]);
  assert.equal(second.hasMore, false);
  // The REST twin agrees.
  const viaRest = await bob.api.get(`/api/messages/${root.id}/thread`, { params: { limit: 2 } });
  assert.deepEqual(viaRest.data, { root: first.root, messages: first.messages, hasMore: true });
});

test("pins: the owner pins and unpins, a member may not, GET pins lists them, message-updated says so", async (t) => {
  const { ann, bob, room, a, b } = await pair(t, "private");
  const sent = [];
  for (const text of ["agenda", "minutes", "chatter"]) sent.push((await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text })).message);

  const pinned = once(b, "message-updated", (m) => m.id === sent[0].id && m.pinned);
  const pin = await ann.api.post(`/api/messages/${sent[0].id}/pin`);
  assert.equal(pin.status, 200);
  assert.equal(pin.data.message.pinned.by, ann.user.id);
  assert.ok(Date.parse(pin.data.message.pinned.at) <= Date.now());
  assert.deepEqual(await pinned, pin.data.message);
  assert.equal((await ann.api.post(`/api/messages/${sent[1].id}/pin`)).status, 200);

  const refused = await bob.api.post(`/api/messages/${sent[2].id}/pin`);
  assert.equal(refused.status, 403);
  assert.equal(refused.data.error.code, "FORBIDDEN");
  assert.equal((await bob.api.delete(`/api/messages/${sent[0].id}/pin`)).status, 403);

  const list = await bob.api.get(`/api/rooms/${room.id}/pins`);
  assert.equal(list.status, 200);
  assert.deepEqual(list.data.messages.map((m) => m.text), ["minutes", "agenda"]); // newest pin first

  const unpinned = once(b, "message-updated", (m) => m.id === sent[1].id && m.pinned === null);
  const unpin = await ann.api.delete(`/api/messages/${sent[1].id}/pin`);
  assert.equal(unpin.status, 200);
  assert.equal(unpin.data.message.pinned, null);
  await unpinned;
  assert.deepEqual((await bob.api.get(`/api/rooms/${room.id}/pins`)).data.messages.map((m) => m.text), ["agenda"]);
  // A stranger to a private room learns nothing of its pins.
  const cat = await account("Cat");
  assert.equal((await cat.api.get(`/api/rooms/${room.id}/pins`)).status, 404);
});

test("notification levels: defaults by room type, PATCH sets yours alone, your other tabs hear room-updated", async (t) => {
  const { ann, bob, room, a, b } = await pair(t);
  const direct = (await ann.api.post("/api/rooms/direct", { userId: bob.user.id })).data.room;
  assert.equal((await mine(bob, room.id)).notifications, "mentions");
  assert.equal((await mine(bob, direct.id)).notifications, "all");

  const otherTab = once(b, "room-updated", (e) => e.room.id === room.id);
  const set = await bob.api.patch(`/api/rooms/${room.id}/notifications`, { level: "none" });
  assert.equal(set.status, 200);
  assert.equal(set.data.room.notifications, "none");
  assert.equal((await otherTab).room.notifications, "none");
  assert.equal((await mine(bob, room.id)).notifications, "none");
  assert.equal((await mine(ann, room.id)).notifications, "mentions"); // Bob's level is Bob's alone

  for (const bad of [{ level: "loud" }, { level: "all", extra: 1 }, {}]) {
    const res = await bob.api.patch(`/api/rooms/${room.id}/notifications`, bad);
    assert.equal(res.status, 400, JSON.stringify(bad));
    assert.equal(res.data.error.code, "VALIDATION_ERROR");
  }
  const cat = await account("Cat");
  const outsider = await cat.api.patch(`/api/rooms/${room.id}/notifications`, { level: "all" });
  assert.ok([403, 404].includes(outsider.status), String(outsider.status));
});

// -- safety and moderation, account lifecycle (CONTRACT.md "Safety and moderation", "Account lifecycle")

const sock = (who) => io(base, { transports: ["websocket"], auth: { token: who.token } });

// Verify an account's address as its owner would: ask for the email, follow its link.
async function verifyEmail(who) {
  assert.equal((await who.api.post("/api/auth/email/verify-request")).status, 202);
  const token = linkToken(await sink.next(who.email), "verify");
  const verified = await browser().api.post("/api/auth/email/verify", { token });
  assert.equal(verified.status, 200);
  assert.equal(verified.data.user.emailVerified, true);
  return verified.data.user;
}

test("blocking: no direct room either way and no send into the one they have, until unblocked; allowDirectFrom shared", async (t) => {
  const ann = await account("Ann");
  const bob = await account("Bob");
  const direct = (await ann.api.post("/api/rooms/direct", { userId: bob.user.id })).data.room;
  const a = sock(ann);
  const b = sock(bob);
  t.after(() => (a.close(), b.close()));
  await Promise.all([connected(a), connected(b)]);
  assert.equal((await b.timeout(ACK).emitWithAck("send-message", { roomId: direct.id, text: "before" })).ok, true);

  assert.equal((await ann.api.post(`/api/users/${bob.user.id}/block`)).status, 204);
  assert.deepEqual((await ann.api.get("/api/users/blocked")).data.users.map((u) => u.id), [bob.user.id]);
  assert.deepEqual((await bob.api.get("/api/users/blocked")).data.users, []); // Bob is not told
  for (const [who, other] of [[ann, bob], [bob, ann]]) {
    const opened = await who.api.post("/api/rooms/direct", { userId: other.user.id });
    assert.equal(opened.status, 403, `${who.user.name} opening a direct room`);
    assert.equal(opened.data.error.code, "FORBIDDEN");
  }
  for (const s of [a, b]) {
    const ack = await s.timeout(ACK).emitWithAck("send-message", { roomId: direct.id, text: "hello?" });
    assert.equal(ack.ok, false);
    assert.equal(ack.error.code, "FORBIDDEN");
    assert.equal("mutedUntil" in (ack.error.details || {}), false); // not a mute: a client says "can't message"
  }
  assert.equal((await bob.api.post(`/api/rooms/${direct.id}/messages`, { text: "over REST?" })).status, 403);
  const history = await b.timeout(ACK).emitWithAck("get-history", { roomId: direct.id });
  assert.deepEqual(history.messages.map((m) => m.text), ["before"]); // still readable

  assert.equal((await ann.api.delete(`/api/users/${bob.user.id}/block`)).status, 204);
  assert.deepEqual((await ann.api.get("/api/users/blocked")).data.users, []);
  assert.equal((await b.timeout(ACK).emitWithAck("send-message", { roomId: direct.id, text: "after" })).ok, true);

  // Cat takes direct messages only from people in a room with her: Dan gets one once he is.
  const cat = await account("Cat");
  const dan = await account("Dan");
  const patched = await cat.api.patch("/api/users/me", { allowDirectFrom: "shared" });
  assert.equal(patched.status, 200);
  assert.equal(patched.data.user.allowDirectFrom, "shared");
  assert.equal((await cat.api.get("/api/users/me")).data.user.allowDirectFrom, "shared");
  assert.equal((await dan.api.post("/api/rooms/direct", { userId: cat.user.id })).status, 403);
  const common = (await cat.api.post("/api/rooms", { name: "Common" })).data.room;
  assert.equal((await dan.api.post(`/api/rooms/${common.id}/join`, {})).status, 200);
  assert.ok([200, 201].includes((await dan.api.post("/api/rooms/direct", { userId: cat.user.id })).status));
});

test("a ban: member-left reason banned, then no way back by join-room or REST until unbanned", async (t) => {
  const { ann, bob, room, a, b } = await pair(t, "private");
  const told = once(b, "member-left", (e) => e.roomId === room.id);
  const roomHears = once(a, "member-left", (e) => e.roomId === room.id);
  const ban = await ann.api.post(`/api/rooms/${room.id}/bans`, { userId: bob.user.id, reason: "spam" });
  assert.equal(ban.status, 201);
  for (const e of [await told, await roomHears]) assert.deepEqual([e.userId, e.reason], [bob.user.id, "banned"]);
  const bans = (await ann.api.get(`/api/rooms/${room.id}/bans`)).data.bans;
  assert.deepEqual(bans.map((x) => [x.user.id, x.by, x.reason]), [[bob.user.id, ann.user.id, "spam"]]);
  assert.equal((await bob.api.get(`/api/rooms/${room.id}/bans`)).status, 404); // a private room he is out of

  const bySocket = await b.timeout(ACK).emitWithAck("join-room", { roomId: room.id, inviteCode: room.inviteCode });
  assert.equal(bySocket.ok, false);
  assert.equal(bySocket.error.code, "FORBIDDEN");
  assert.match(bySocket.error.message, /banned/);
  const byRest = await bob.api.post("/api/rooms/join", { inviteCode: room.inviteCode });
  assert.equal(byRest.status, 403);
  assert.equal(byRest.data.error.code, "FORBIDDEN");
  assert.equal((await bob.api.get("/api/rooms/mine")).data.rooms.some((r) => r.id === room.id), false);

  assert.equal((await ann.api.delete(`/api/rooms/${room.id}/bans/${bob.user.id}`)).status, 204);
  assert.deepEqual((await ann.api.get(`/api/rooms/${room.id}/bans`)).data.bans, []);
  const back = await b.timeout(ACK).emitWithAck("join-room", { roomId: room.id, inviteCode: room.inviteCode });
  assert.equal(back.ok, true);
});

test("a mute refuses send-message with details.mutedUntil until unmuted; slow mode answers RATE_LIMITED with retryAfter", async (t) => {
  const { ann, bob, room, a, b } = await pair(t);
  const send = (s, text) => s.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text });
  const muted = await ann.api.post(`/api/rooms/${room.id}/mutes`, { userId: bob.user.id, minutes: 5 });
  assert.equal(muted.status, 201);
  const { until } = muted.data.mute;
  assert.ok(Date.parse(until) > Date.now() + 4 * 60000, until);
  const refused = await send(b, "let me talk");
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, "FORBIDDEN");
  assert.equal(refused.error.details.mutedUntil, until);
  assert.equal((await b.timeout(ACK).emitWithAck("get-history", { roomId: room.id })).ok, true); // still reads
  const listed = (await ann.api.get(`/api/rooms/${room.id}/mutes`)).data.mutes;
  assert.deepEqual(listed.map((m) => [m.user.id, m.until]), [[bob.user.id, until]]);

  // Again with no minutes: until unmuted (the new term replaces the old).
  const forever = await ann.api.post(`/api/rooms/${room.id}/mutes`, { userId: bob.user.id });
  assert.equal(forever.data.mute.until, null);
  assert.equal((await send(b, "still?")).error.details.mutedUntil, null);
  assert.equal((await ann.api.delete(`/api/rooms/${room.id}/mutes/${bob.user.id}`)).status, 204);
  assert.deepEqual((await ann.api.get(`/api/rooms/${room.id}/mutes`)).data.mutes, []);
  assert.equal((await send(b, "thanks")).ok, true);

  // Slow mode: the members hear it; Bob's second message waits, the owner's does not.
  const heard = once(b, "room-updated", (e) => e.room.id === room.id && e.room.slowModeSeconds === 30);
  const slow = await ann.api.patch(`/api/rooms/${room.id}`, { slowModeSeconds: 30 });
  assert.equal(slow.status, 200);
  assert.equal(slow.data.room.slowModeSeconds, 30);
  await heard;
  assert.equal((await send(b, "one")).ok, true);
  const waited = await send(b, "two");
  assert.equal(waited.error.code, "RATE_LIMITED");
  assert.ok(waited.error.details.retryAfter >= 1 && waited.error.details.retryAfter <= 30, String(waited.error.details.retryAfter));
  assert.equal((await send(a, "owner one")).ok, true);
  assert.equal((await send(a, "owner two")).ok, true);
  assert.equal((await ann.api.patch(`/api/rooms/${room.id}`, { slowModeSeconds: 0 })).status, 200);
  assert.equal((await send(b, "two, now")).ok, true);
});

test("a report reaches the server admin, who deletes the message; disabling the sender cuts her socket", async (t) => {
  const { ann, bob, room, a, b } = await pair(t);
  const root = await account("Root", ADMIN_EMAIL);
  // A server admin is an ADMIN_EMAILS account whose address is verified.
  assert.deepEqual([root.user.role, root.user.emailVerified], ["user", false]);
  assert.equal((await verifyEmail(root)).role, "admin");
  assert.equal((await root.api.get("/api/users/me")).data.user.role, "admin");
  assert.equal(ann.user.role, "user");
  const sent = (await a.timeout(ACK).emitWithAck("send-message", { roomId: room.id, text: "buy cheap watches" })).message;

  const report = await bob.api.post(`/api/messages/${sent.id}/report`, { reason: "spam" });
  assert.equal(report.status, 201);
  assert.equal(report.data.report.status, "open");
  const again = await bob.api.post(`/api/messages/${sent.id}/report`, { reason: "still spam" });
  assert.equal(again.status, 409);
  assert.equal(again.data.error.code, "CONFLICT");
  assert.equal((await ann.api.post(`/api/messages/${sent.id}/report`, { reason: "mine" })).status, 400);
  assert.equal((await bob.api.get("/api/admin/reports")).status, 403);

  const open = await root.api.get("/api/admin/reports", { params: { status: "open" } });
  assert.equal(open.status, 200);
  const listed = open.data.reports.find((r) => r.id === report.data.report.id);
  assert.deepEqual([listed.reporter.id, listed.message.id, listed.message.text, listed.reason], [bob.user.id, sent.id, "buy cheap watches", "spam"]);

  const deleted = once(b, "message-deleted", (e) => e.messageId === sent.id);
  const resolved = await root.api.post(`/api/admin/reports/${listed.id}/resolve`, { action: "delete-message" });
  assert.equal(resolved.status, 200);
  assert.deepEqual([resolved.data.report.status, resolved.data.report.action], ["resolved", "delete-message"]);
  await deleted;
  assert.equal((await root.api.post(`/api/admin/reports/${listed.id}/resolve`, { action: "dismiss" })).status, 409);
  const done = (await root.api.get("/api/admin/reports", { params: { status: "resolved" } })).data.reports.find((r) => r.id === listed.id);
  assert.ok(done.message.deletedAt);

  const expired = once(a, "session-expired", () => true, 10000);
  assert.equal((await root.api.post(`/api/admin/users/${ann.user.id}/disable`)).status, 204);
  assert.deepEqual(await expired, { reason: "disabled" });
  const login = () => browser().api.post("/api/auth/login", { email: ann.email, password: "correct horse" });
  const refused = await login();
  assert.equal(refused.status, 403);
  assert.equal(refused.data.error.code, "FORBIDDEN");
  assert.equal((await ann.api.get("/api/auth/me")).status, 401);
  assert.equal((await root.api.post(`/api/admin/users/${ann.user.id}/enable`)).status, 204);
  assert.equal((await login()).status, 200);
});

test("forgot password answers 202 for an unknown address too; a known one gets a link that works once", async () => {
  const ann = await account("Ann");
  const anon = browser();
  const nobody = `nobody-${Date.now()}@example.com`;
  const unknown = await anon.api.post("/api/auth/password/forgot", { email: nobody });
  assert.equal(unknown.status, 202);
  const known = await anon.api.post("/api/auth/password/forgot", { email: ann.email });
  assert.equal(known.status, 202);
  assert.deepEqual(known.data, unknown.data); // nothing tells them apart

  const mail = await sink.next(ann.email);
  assert.ok(mail.text.includes(`${base}/?reset=`), mail.text);
  assert.equal(sink.mails.some((m) => m.to.includes(nobody)), false);
  const token = linkToken(mail, "reset");
  const reset = await anon.api.post("/api/auth/password/reset", { token, newPassword: "a brand new horse" });
  assert.equal(reset.status, 200);
  const twice = await anon.api.post("/api/auth/password/reset", { token, newPassword: "yet another horse" });
  assert.equal(twice.status, 400);
  assert.equal(twice.data.error.details.token, "used");
  assert.equal((await ann.api.get("/api/auth/me")).status, 401); // every session ended
  const login = (password) => browser().api.post("/api/auth/login", { email: ann.email, password });
  assert.equal((await login("correct horse")).status, 401);
  assert.equal((await login("a brand new horse")).status, 200);
});
