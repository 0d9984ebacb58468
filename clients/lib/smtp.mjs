// A mail server for the client suites: plain SMTP on a loopback port (no STARTTLS offered, no
// login), keeping every message it is given, so a test follows the link in a reset or
// verification email as its reader would. Start it before the chat server and pass its `url` as
// SMTP_URL.
import net from "node:net";

// The text of a message's body: headers unfolded, quoted-printable or base64 decoded.
function parse(raw) {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const body = raw.slice(split + 4);
  const header = (name) => head.match(new RegExp(`^${name}:\\s*(.*)$`, "im"))?.[1].trim() ?? "";
  const encoding = header("Content-Transfer-Encoding").toLowerCase();
  let text = body;
  if (encoding === "quoted-printable") {
    const bytes = body.replace(/=\r\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
    text = Buffer.from(bytes, "latin1").toString("utf8");
  } else if (encoding === "base64") {
    text = Buffer.from(body, "base64").toString("utf8");
  }
  return { subject: header("Subject"), to: header("To"), text };
}

export async function smtpSink() {
  const mails = []; // {from, to: [addresses], subject, text, raw}, in arrival order
  const waiters = new Set();

  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.setEncoding("latin1"); // bytes as they came; the body's charset is decoded by parse()
    let buffer = "";
    let data = null; // the DATA lines, while a message is being received
    let envelope = { from: null, to: [] };
    const reply = (line) => socket.write(`${line}\r\n`);
    socket.on("error", () => {});
    reply("220 sink ESMTP");
    socket.on("data", (chunk) => {
      buffer += chunk;
      for (let at = buffer.indexOf("\r\n"); at >= 0; at = buffer.indexOf("\r\n")) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        if (data !== null) {
          if (line === ".") {
            const raw = data.join("\r\n");
            const mail = { from: envelope.from, to: envelope.to, raw, ...parse(raw) };
            mails.push(mail);
            for (const waiter of waiters) waiter();
            data = null;
            envelope = { from: null, to: [] };
            reply("250 OK");
          } else data.push(line.startsWith(".") ? line.slice(1) : line);
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        const address = () => line.match(/<([^>]*)>/)?.[1].toLowerCase() ?? "";
        if (verb === "EHLO") reply("250-sink\r\n250 8BITMIME");
        else if (verb === "HELO" || verb === "NOOP") reply("250 OK");
        else if (verb === "MAIL") (envelope.from = address()), reply("250 OK");
        else if (verb === "RCPT") envelope.to.push(address()), reply("250 OK");
        else if (verb === "DATA") (data = []), reply("354 End data with <CR><LF>.<CR><LF>");
        else if (verb === "RSET") (envelope = { from: null, to: [] }), reply("250 OK");
        else if (verb === "QUIT") reply("221 Bye"), socket.end();
        else reply("502 Command not implemented");
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const taken = new Set();

  // The next message to `to` not handed out yet, within `ms` (its timer cleared either way).
  function next(to, ms = 30000) {
    const wanted = to.toLowerCase();
    const find = () => mails.find((m) => !taken.has(m) && m.to.includes(wanted));
    return new Promise((resolve, reject) => {
      const done = (mail) => {
        clearTimeout(timer);
        waiters.delete(check);
        taken.add(mail);
        resolve(mail);
      };
      const check = () => {
        const mail = find();
        if (mail) done(mail);
      };
      const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`no email to ${to} in ${ms} ms`))), ms);
      waiters.add(check);
      check();
    });
  }

  return {
    url: `smtp://127.0.0.1:${server.address().port}`,
    mails,
    next,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        for (const socket of sockets) socket.destroy();
      }),
  };
}

// The token of a link in an email: `?reset=<token>` or `?verify=<token>`.
export function linkToken(mail, kind) {
  const found = mail.text.match(new RegExp(`[?&]${kind}=([A-Za-z0-9_.-]+)`));
  if (!found) throw new Error(`no ${kind} link in: ${mail.text}`);
  return found[1];
}
