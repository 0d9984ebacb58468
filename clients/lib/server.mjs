// Starts and stops the real server (`python run.py`, embedded database) for the client suites.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

// One server: a port and a data folder that outlive restarts, so a restart keeps the database.
export async function chatServer(extraEnv = {}) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "chat-js-"));
  const base = `http://127.0.0.1:${port}`;
  let child = null;

  async function start() {
    child = spawn(process.env.PYTHON || "python3", ["run.py"], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
      env: {
        ...process.env, PORT: String(port), HOST: "127.0.0.1", MONGODB_URI: "", DATA_DIR: dataDir,
        BCRYPT_ROUNDS: "4", LOG_LEVEL: "warning", RATE_LIMIT_AUTH: "1000/minute",
        RATE_LIMIT_API: "100000/minute", RATE_LIMIT_MESSAGES: "1000/10seconds",
        RATE_LIMIT_USER_MESSAGES: "100000/10seconds", RATE_LIMIT_EDITS: "100000/minute",
        RATE_LIMIT_REACTIONS: "100000/minute", RATE_LIMIT_TYPING: "100000/second",
        PUSH_ALLOW_LOOPBACK: "true", // the demo test's push service stand-in is on loopback
        CLIENT_URL: "http://localhost:5173", PRESENCE_GRACE_SECONDS: "1",
        PUBLIC_URL: base, // emailed links point at this server
        ...extraEnv,
      },
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    for (let i = 0; i < 150; i++) {
      const up = await fetch(base + "/health").then((r) => r.ok, () => false);
      if (up) return;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill("SIGKILL");
    await exited;
    throw new Error("server did not start");
  }

  // SIGTERM is the graceful stop: in-flight events finish, sockets get server-shutdown.
  async function stop() {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }

  // However the test run ends, the server it started does not outlive it, nor its data folder
  // (a /tmp/chat-js-* per suite run piled up otherwise).
  process.once("exit", () => {
    if (child?.exitCode === null) child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });
  await start();
  return { base, port, dataDir, start, stop, restart: async () => (await stop(), await start()) };
}
