// The demo client's service worker: Web Push notifications only (it caches nothing and serves
// no page). Registered from /static/, so its scope is /static/; it needs to control no page to show
// a notification, and a click finds the app's window at `/` (or opens one) at the message's room.
"use strict";

self.addEventListener("install", () => self.skipWaiting()); // a new version takes over at once
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// The payload (docs/API.md, "Notifications"): {type: "message", roomId, messageId, seq, title, body}.
// userVisibleOnly: every push must show a notification, so an unreadable one still shows one.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { body: event.data ? event.data.text() : "" };
  }
  const title = typeof data.title === "string" && data.title ? data.title : "New message";
  const body = typeof data.body === "string" ? data.body : "";
  const options = {
    body, // notifications show text, never markup
    data: { roomId: data.roomId || null, messageId: data.messageId || null, seq: data.seq || null },
  };
  if (data.roomId) {
    options.tag = `room-${data.roomId}`; // one notification per room, the newest message's
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const roomId = event.notification.data?.roomId;
  const url = new URL(roomId ? `/#room=${encodeURIComponent(roomId)}` : "/", self.location.origin).href;
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const app = windows.find((c) => new URL(c.url).pathname === "/");
      if (app) {
        if (roomId) app.postMessage({ type: "open-room", roomId });
        return app.focus();
      }
      return self.clients.openWindow(url);
    })(),
  );
});
