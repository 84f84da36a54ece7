// The real backend for the browser suite: migrated temp SQLite, seeded, served by uvicorn
// on a free port with the test bot token, and the webapp build in webapp/dist.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_BOT_TOKEN } from './initdata';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const DIST = join(REPO, 'webapp', 'dist');

function python(): string[] {
  const venv = join(REPO, '.venv', 'bin', 'python');
  return existsSync(venv) ? [venv] : ['uv', 'run', '--frozen', 'python'];
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

export interface SeededUser {
  telegram_id: number;
  leads: { id: number; name: string }[];
}

export interface Backend {
  url: string;
  users: Map<number, SeededUser>;
  stop: () => Promise<void>;
  log: () => string;
}

/** With `localMode`, no bot token: the demo user and /dev/init-data, as `make run` serves. */
export async function startBackend(userIds: number[], { localMode = false } = {}): Promise<Backend> {
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error(`no webapp build in ${DIST}: run "npm run build" first`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'eplan-e2e-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: `sqlite+aiosqlite:///${join(dir, 'e2e.db')}`,
    TELEGRAM_BOT_TOKEN: localMode ? '' : TEST_BOT_TOKEN,
    // Nothing listens there: the suite must never talk to the real Telegram.
    TELEGRAM_API_BASE: 'http://127.0.0.1:9',
    SCHEDULER_ENABLED: 'false',
    AUTO_MIGRATE: 'false',
    WEBAPP_DIST: DIST,
    LOG_LEVEL: 'WARNING',
  };
  const [cmd, ...pre] = python() as [string, ...string[]];
  const run = (args: string[]) => {
    const result = spawnSync(cmd, [...pre, ...args], { cwd: REPO, env, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
    return result.stdout;
  };
  run(['-m', 'app', 'migrate']);
  if (localMode) run(['-m', 'app', 'seed-demo']);
  const seeded = userIds.length
    ? (JSON.parse(run(['-m', 'tests.support.e2e_seed', ...userIds.map(String)])) as { users: SeededUser[] })
    : { users: [] };

  const port = await freePort();
  let output = '';
  const server: ChildProcess = spawn(
    cmd,
    [...pre, '-m', 'uvicorn', 'app.main:app', '--host', '127.0.0.1', '--port', String(port), '--no-access-log'],
    { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`the server exited:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    users: new Map(seeded.users.map((u) => [u.telegram_id, u])),
    log: () => output,
    stop: async () => {
      if (server.exitCode === null) {
        const exited = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (server.exitCode === null) server.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
