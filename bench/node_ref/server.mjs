// Node.js Socket.IO reference server for the benchmarks: the chat server's wire, no database.
//
//   npm ci --prefix bench/node_ref
//   PORT=3100 node bench/node_ref/server.mjs      # PORT unset or 0: a free port
//
// Prints one line `{"port": N, "pid": P}` once listening. GET /health answers 200.
//
// Wire (the same as the Python server where the benchmarks use it):
// - path /socket.io/, default namespace, Engine.IO v4, websocket per-message deflate off
//   (socket.io's default).
// - Handshake `auth.token` is "<userId>:<roomId>" (no signature: the bench makes tokens without
//   any server). A bad token is refused with a CONNECT_ERROR.
// - On connect the socket joins `room:<roomId>` and `user:<userId>`. No presence: no
//   `online-users`, no `user-online`.
// - `send-message {roomId, text, clientId}` with an ack: the message gets the room's next
//   in-memory seq, the ack is {ok: true, message: {id, roomId, seq, text, clientId,
//   sender: {id}, createdAt}} and `new-message` (the same object) goes to the room, sender's
//   socket excluded. A room the socket is not in, or a missing text, acks {ok: false, error}.

import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { Server } from "socket.io";

const port = Number(process.env.PORT || 0);
const host = process.env.HOST || "127.0.0.1";

const http = createServer((req, res) => {
  if (req.url === "/health") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"status":"ok"}');
    return;
  }
  res.writeHead(404);
  res.end();
});

const io = new Server(http, {
  path: "/socket.io/",
  serveClient: false,
  perMessageDeflate: false,
  cors: { origin: "*" },
});

io.use((socket, next) => {
  const token = socket.handshake.auth && socket.handshake.auth.token;
  const parts = typeof token === "string" ? token.split(":") : [];
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    const err = new Error("Unauthorized");
    err.data = { code: "UNAUTHORIZED", message: "token must be <userId>:<roomId>" };
    next(err);
    return;
  }
  socket.data.userId = parts[0];
  socket.data.roomId = parts[1];
  next();
});

const seqs = new Map();
const idPrefix = randomBytes(4).toString("hex");
let nextId = 0;

io.on("connection", (socket) => {
  const { userId, roomId } = socket.data;
  socket.join([`room:${roomId}`, `user:${userId}`]);

  socket.on("send-message", (payload, ack) => {
    const reply = typeof ack === "function" ? ack : () => {};
    if (!payload || typeof payload.text !== "string" || !payload.text) {
      reply({ ok: false, error: { code: "VALIDATION_FAILED", message: "text is required" } });
      return;
    }
    const room = `room:${payload.roomId}`;
    if (!socket.rooms.has(room)) {
      reply({ ok: false, error: { code: "FORBIDDEN", message: "not a member of this room" } });
      return;
    }
    const seq = (seqs.get(payload.roomId) || 0) + 1;
    seqs.set(payload.roomId, seq);
    nextId += 1;
    const message = {
      id: `${idPrefix}${nextId.toString(16).padStart(16, "0")}`,
      roomId: payload.roomId,
      seq,
      text: payload.text,
      clientId: payload.clientId ?? null,
      sender: { id: userId },
      createdAt: new Date().toISOString(),
    };
    reply({ ok: true, message });
    socket.to(room).emit("new-message", message);
  });
});

http.listen(port, host, () => {
  console.log(JSON.stringify({ port: http.address().port, pid: process.pid }));
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    io.close();
    http.close();
    setTimeout(() => process.exit(0), 200).unref();
  });
}
