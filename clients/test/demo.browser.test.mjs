// The demo page at `/` in Debian's chromium, driven by playwright-core: two people, two browser
// profiles, one private room. Screenshots land in test-artifacts/. Run: npm test --prefix clients.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { ROOT, chatServer } from "../lib/server.mjs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test-artifacts");
const FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
// Bounds for a stuck page, not expectations: a busy machine must still pass.
const WAIT = { timeout: 30000 };

let server;
const contexts = [];
const profiles = []; // browser profile folders, removed after the suite
const pages = []; // Ann's and Bob's, kept open from one test to the next

before(async () => {
  server = await chatServer();
  mkdirSync(ARTIFACTS, { recursive: true });
});
after(async () => {
  for (const context of contexts) await context.close();
  for (const profile of profiles) rmSync(profile, { recursive: true, force: true });
  await server?.stop();
});

// A fresh profile per person: its own cookie jar, nothing left from an earlier run.
async function person() {
  const profile = mkdtempSync(join(tmpdir(), "chat-profile-"));
  profiles.push(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1100, height: 720 },
  });
  contexts.push(context);
  const page = context.pages()[0] || (await context.newPage());
  page.problems = [];
  page.on("pageerror", (err) => page.problems.push(String(err)));
  // Chromium logs every 4xx as a console error; failed responses are checked by URL below instead.
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) page.problems.push(msg.text());
  });
  page.on("requestfailed", (req) => page.problems.push(`${req.url()} failed: ${req.failure()?.errorText}`));
  page.on("response", (res) => {
    const expected = res.status() === 401 && res.url().endsWith("/api/auth/me"); // not signed in yet
    if (res.status() >= 400 && !expected) page.problems.push(`${res.status()} ${res.url()}`);
  });
  page.on("dialog", (dialog) => dialog.accept());
  await page.goto(server.base + "/");
  return page;
}

async function register(page, name) {
  await page.click("#register");
  await page.fill('input[name="display-name"]', name);
  await page.fill('input[name="email"]', `${name.toLowerCase()}-${Date.now()}@example.com`);
  await page.fill('input[name="password"]', "correct horse");
  await page.click("#login");
  await page.locator("#app").waitFor(WAIT);
  await page.locator("#connection:empty").waitFor({ state: "attached", ...WAIT });
}

const message = (page, text) => page.locator("#messages li.message", { hasText: text });

async function say(page, text) {
  await page.fill("#text", text);
  await page.press("#text", "Enter");
  await message(page, text).locator("time").waitFor(WAIT);
  await page.locator("#messages li.pending").waitFor({ state: "detached", ...WAIT }); // acked
}

test("two people chat in a private room through the demo page", { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, async () => {
  const ann = await person();
  const bob = await person();
  pages.push(ann, bob);
  assert.equal(await ann.title(), "Chat");
  await register(ann, "Ann");
  await register(bob, "Bob");

  // Ann makes a private room; its invite code is shown to her as owner.
  await ann.fill('input[name="room-name"]', "Design");
  await ann.click('#new-room button[type="submit"]');
  await ann.locator("#invite-code").waitFor(WAIT);
  const code = (await ann.textContent("#invite-code")).trim();
  assert.match(code, /^\S{20,}$/);

  // Bob joins with the code Ann shared; Ann sees him arrive, online.
  await bob.fill('input[name="code"]', code);
  await bob.click('#join-code button[type="submit"]');
  await bob.locator("#room-name", { hasText: "Design" }).waitFor(WAIT);
  await ann.locator("#room-info .member", { hasText: "Bob" }).locator(".dot.online").waitFor(WAIT);

  await say(ann, "Hello Bob");
  await message(bob, "Hello Bob").waitFor(WAIT);

  // Bob types: Ann sees the indicator, and it goes when his message lands.
  await bob.click("#text");
  await bob.keyboard.type("Hi Ann, the mockups are ready", { delay: 15 });
  await ann.locator("#typing", { hasText: "Bob is typing" }).waitFor(WAIT);
  await ann.screenshot({ path: join(ARTIFACTS, "demo-ann-typing.png") });
  await bob.press("#text", "Enter");
  await message(ann, "the mockups are ready").waitFor(WAIT);
  await ann.locator("#typing:empty").waitFor({ state: "attached", ...WAIT });

  // Bob has the room open, so he read Ann's message: she gets the receipt.
  await message(ann, "Hello Bob").locator(".receipt", { hasText: "Seen by Bob" }).waitFor(WAIT);

  // An image, drawn and PNG-encoded by the browser itself, sent through the upload endpoint.
  const png = await bob.evaluate(() => {
    const canvas = Object.assign(document.createElement("canvas"), { width: 240, height: 120 });
    const g = canvas.getContext("2d");
    g.fillStyle = "#2563eb";
    g.fillRect(0, 0, 240, 120);
    g.fillStyle = "#fff";
    g.font = "28px sans-serif";
    g.fillText("mockup v1", 40, 70);
    return canvas.toDataURL("image/png").split(",")[1];
  });
  await bob.setInputFiles("#file", { name: "mockup.png", mimeType: "image/png", buffer: Buffer.from(png, "base64") });
  const image = ann.locator('#messages li.message img[alt="mockup.png"]');
  await image.waitFor(WAIT);
  await ann.waitForFunction(() => document.querySelector('img[alt="mockup.png"]')?.naturalWidth === 240, null, WAIT);

  // A page of HTML passed off as a picture is refused with a clear error; nothing is posted.
  await bob.setInputFiles("#file", { name: "cat.png", mimeType: "image/png", buffer: Buffer.from("<script>alert(1)</script>") });
  await bob.locator("#chat-error", { hasText: "not accepted" }).waitFor(WAIT);
  assert.deepEqual(bob.problems.splice(0), [`415 ${server.base}/api/uploads`]);
  assert.equal(await ann.locator("#messages li.message").count(), 3);

  // Ann reacts to Bob's message; Bob sees the count. Bob edits his own message; Ann sees the edit.
  const bobsMessage = message(ann, "the mockups are ready");
  await bobsMessage.hover();
  await bobsMessage.locator('button[title="React 👍"]').click();
  await message(bob, "the mockups are ready").locator(".chip", { hasText: "👍 1" }).waitFor(WAIT);
  const mine = message(bob, "the mockups are ready");
  await mine.hover();
  await mine.locator("button", { hasText: "edit" }).click();
  await bob.fill("#text", "Hi Ann, the mockups v2 are ready");
  await bob.press("#text", "Enter");
  await message(ann, "mockups v2").locator("text=(edited)").waitFor(WAIT);

  // A direct message while Ann looks at Design: an unread badge on the direct room, gone on open.
  await bob.fill('input[name="q"]', "Ann");
  await bob.click('#find-user button[type="submit"]');
  await bob.locator("#people li", { hasText: "Ann" }).click();
  await bob.locator("#room-name", { hasText: "Ann" }).waitFor(WAIT);
  await say(bob, "psst, lunch?");
  const direct = ann.locator("#rooms li", { hasText: "Bob" });
  await direct.locator(".badge", { hasText: "1" }).waitFor(WAIT);
  await ann.screenshot({ path: join(ARTIFACTS, "demo-ann.png") });
  await direct.click();
  await message(ann, "psst, lunch?").waitFor(WAIT);
  await direct.locator(".badge").waitFor({ state: "detached", ...WAIT });
  await message(bob, "psst, lunch?").locator(".receipt", { hasText: "Seen by Ann" }).waitFor(WAIT);
  await bob.screenshot({ path: join(ARTIFACTS, "demo-bob.png") });

  // Bob steps away: Ann's dot for him turns amber.
  await bob.selectOption("#my-status", "away");
  await ann.locator("#room-info .member", { hasText: "Bob" }).locator(".dot.away").waitFor(WAIT);

  // Bob deletes his image; Ann's copy becomes a tombstone though she is in another room.
  await bob.locator("#rooms li", { hasText: "Design" }).click();
  const picture = message(bob, "Bob").filter({ has: bob.locator("img") });
  await picture.hover();
  await picture.locator("button", { hasText: "delete" }).click();
  await ann.locator("#rooms li", { hasText: "Design" }).click();
  await message(ann, "Message deleted").waitFor(WAIT);
  assert.equal(await ann.locator('img[alt="mockup.png"]').count(), 0);

  // Nothing went wrong in either page: no script error, no CSP violation, no failed request.
  assert.deepEqual(ann.problems, []);
  assert.deepEqual(bob.problems, []);
});

test("the page reconnects by itself after a server restart and nothing is lost", { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, async () => {
  const [ann, bob] = pages;
  const socketId = (page) => page.evaluate(() => state.socket.id);
  const before = [await socketId(ann), await socketId(bob)];
  await server.stop(); // SIGTERM: sockets get server-shutdown before their transports close
  // By the time the process has exited the page may be past "Server restarting…" and
  // "Reconnecting…", at "Cannot reach the server; retrying…": any of them says it noticed.
  await ann.locator("#connection", { hasText: /restarting|Reconnecting|Cannot reach/ }).waitFor(WAIT);

  // Bob writes while the server is down: the message waits as pending, then goes on reconnect.
  await bob.fill("#text", "written while the server was down");
  await bob.press("#text", "Enter");
  await message(bob, "written while the server was down").locator(".status", { hasText: "Sending" }).waitFor(WAIT);

  await server.start(); // a new process on the same database
  for (const page of [ann, bob]) await page.locator("#connection:empty").waitFor({ state: "attached", timeout: 60000 });
  await ann.waitForFunction((old) => state.socket.connected && state.socket.id !== old, before[0], WAIT);
  await bob.waitForFunction((old) => state.socket.connected && state.socket.id !== old, before[1], WAIT);
  await message(ann, "written while the server was down").waitFor(WAIT);
  await bob.locator("#messages li.pending").waitFor({ state: "detached", ...WAIT });
  await say(bob, "said after the restart");
  await message(ann, "said after the restart").waitFor(WAIT);
  assert.equal(await message(ann, "written while the server was down").count(), 1);

  // Ann's connection drops while Bob edits a message she has and posts 120 more: more than one
  // sync page (100) to fetch, and the edit must show too.
  await ann.evaluate(() => state.socket.disconnect());
  const roomId = await bob.evaluate(() => state.current);
  await bob.evaluate(async (roomId) => {
    const said = state.messages.get(roomId).find((m) => m.text === "said after the restart");
    const ack = await state.socket.emitWithAck("edit-message", { messageId: said.id, text: "said after the restart, edited" });
    if (!ack.ok) throw new Error(ack.error.message);
    for (let i = 1; i <= 120; i++) {
      const body = JSON.stringify({ text: `gap ${String(i).padStart(3, "0")}` });
      await fetch(`/api/rooms/${roomId}/messages`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    }
  }, roomId);
  await ann.evaluate(() => state.socket.connect());
  await message(ann, "gap 120").waitFor(WAIT);
  assert.equal(await ann.locator("#messages li.message", { hasText: /^Bob.*gap \d{3}$/ }).count(), 120);
  await message(ann, "said after the restart, edited").locator("text=(edited)").waitFor(WAIT);
  // While the server was down the socket's own requests failed, as they should; nothing else.
  for (const page of [ann, bob]) {
    assert.deepEqual(page.problems.filter((p) => !p.includes("/socket.io/")), []);
    page.problems.length = 0;
  }
});

test("scrolling up loads older history; a public room is found and joined; kick and renew the invite code; logging out", { skip: !existsSync(CHROMIUM) && `no ${CHROMIUM}` }, async () => {
  const [ann, bob] = pages;
  // 45 messages posted through the page's own session (REST, the cookie), then the room opened.
  await ann.evaluate(async () => {
    const post = (path, body) =>
      fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
    const { room } = await post("/api/rooms", { name: "Archive", type: "public" });
    for (let i = 1; i <= 45; i++) await post(`/api/rooms/${room.id}/messages`, { text: `old ${String(i).padStart(2, "0")}` });
  });
  await ann.locator("#rooms li", { hasText: "Archive" }).click();
  await message(ann, "old 45").waitFor(WAIT);
  assert.equal(await message(ann, "old 01").count(), 0);
  await ann.locator("#messages .more").waitFor(WAIT);
  await ann.locator("#messages").evaluate((box) => (box.scrollTop = 0));
  await message(ann, "old 01").waitFor(WAIT);
  assert.equal(await ann.locator("#messages li.message").count(), 45);
  await ann.locator("#messages .more").waitFor({ state: "detached", ...WAIT });

  await bob.click("#browse");
  await bob.locator("#public-rooms li", { hasText: "Archive" }).click();
  await message(bob, "old 45").waitFor(WAIT);
  await ann.locator("#room-info .member", { hasText: "Bob" }).waitFor(WAIT);

  // Ann removes Bob from Design and renews its invite code in the same step (a kick is not a ban):
  // the room leaves Bob's list, and the code he still has no longer lets him back in.
  await ann.locator("#rooms li", { hasText: "Design" }).click();
  await ann.locator("#room-name", { hasText: "Design" }).waitFor(WAIT);
  const oldCode = (await ann.textContent("#invite-code")).trim();
  const bobInDesign = ann.locator("#room-info .member", { hasText: "Bob" });
  await bobInDesign.locator("button", { hasText: "kick and renew the invite code" }).click();
  await bob.locator("#rooms li", { hasText: "Design" }).waitFor({ state: "detached", ...WAIT });
  await bobInDesign.waitFor({ state: "detached", ...WAIT });
  await ann.waitForFunction((old) => !["", old].includes($("invite-code").textContent.trim()), oldCode, WAIT);
  await bob.fill('input[name="code"]', oldCode);
  await bob.click('#join-code button[type="submit"]');
  await bob.locator("#chat-error", { hasText: "Invalid invite code" }).waitFor(WAIT);
  assert.deepEqual(bob.problems.splice(0), [`404 ${server.base}/api/rooms/join`]);
  assert.equal(await bob.locator("#rooms li", { hasText: "Design" }).count(), 0);

  // Logging out clears the cookie: the login form comes back, and stays after a reload.
  await ann.click("#logout");
  await ann.locator("#auth-form").waitFor(WAIT);
  await ann.reload();
  await ann.locator("#auth-form").waitFor(WAIT);
  assert.equal(await ann.locator("#app").isVisible(), false);
  assert.deepEqual(ann.problems, []);
  assert.deepEqual(bob.problems, []);
});
