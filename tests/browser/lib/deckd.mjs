// Runs the real deckd binary for a test: a fresh temporary data directory, a free
// 127.0.0.1 port, readiness by polling /healthz and /readyz, the setup token from
// `deckd setup-token`, and a clean stop (SIGTERM, then SIGKILL if it hangs).

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The binary under test: $DECKD_BIN, else target/ci/deckd of this checkout. */
export const DECKD_BIN = process.env.DECKD_BIN
  ? path.resolve(process.env.DECKD_BIN)
  : path.join(REPO, 'target', 'ci', 'deckd');

/**
 * The environment deckd gets: ours without any DECKD_* variable (deckd reads every
 * DECKD_<KEY> as a setting and refuses unknown ones, e.g. the suite's DECKD_SKIP), plus `extra`.
 */
function deckdEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('DECKD_')) env[k] = v;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function answers(url) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

export class Deckd {
  /** @param {string} logPath where the server's output goes (kept after the run) */
  static async start(logPath) {
    if (!existsSync(DECKD_BIN)) {
      throw new Error(`${DECKD_BIN} does not exist: build it with \`cargo build --profile ci\` or set DECKD_BIN`);
    }
    // A port found free can be taken before deckd binds it; then try another one.
    let lastError;
    for (let attempt = 0; attempt < 3; attempt++) {
      const d = new Deckd(logPath, await freePort());
      try {
        await d.waitReady();
        return d;
      } catch (e) {
        lastError = e;
        await d.stop();
        if (!/in use/i.test(d.logText())) break;
      }
    }
    throw lastError;
  }

  constructor(logPath, port) {
    this.logPath = logPath;
    this.port = port;
    this.base = `http://127.0.0.1:${port}`;
    this.dataDir = mkdtempSync(path.join(tmpdir(), 'deckd-browser-'));
    const log = openSync(logPath, 'w');
    this.exited = null;
    this.child = spawn(DECKD_BIN, ['serve', '--allow-root'], {
      env: deckdEnv({
        DECKD_DATA_DIR: this.dataDir,
        DECKD_LISTEN: `127.0.0.1:${port}`,
        DECKD_LOG_LEVEL: 'info',
      }),
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.done = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve();
      });
      this.child.on('error', (err) => {
        this.exited = { error: err };
        resolve();
      });
    });
  }

  /** Polls until both /healthz and /readyz answer 200 (the process, then its database). */
  async waitReady(timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) {
        throw new Error(`deckd exited before it was ready (${JSON.stringify(this.exited)}); log:\n${this.logTail()}`);
      }
      if ((await answers(`${this.base}/healthz`)) && (await answers(`${this.base}/readyz`))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`deckd never answered /healthz and /readyz within ${timeoutMs} ms; log:\n${this.logTail()}`);
  }

  /** The one-time setup token, as the administrator gets it: `deckd setup-token`. */
  setupToken() {
    const out = execFileSync(DECKD_BIN, ['--data-dir', this.dataDir, 'setup-token'], {
      env: deckdEnv({}),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const token = out.trim();
    if (!token) throw new Error('`deckd setup-token` printed nothing');
    return token;
  }

  logText() {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  logTail(lines = 40) {
    return this.logText().split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM, up to 15 s for the graceful shutdown, then SIGKILL; removes the data. */
  async stop() {
    if (!this.exited && this.child.pid) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await this.done;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
