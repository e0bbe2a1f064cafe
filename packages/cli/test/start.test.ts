/**
 * `countersign start` as a real process: configuration refused up front,
 * COUNTERSIGN_METRICS, and the shutdown deadline that cuts connections a
 * graceful close would wait on forever.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exitOf, runCli, startCli } from './helpers.js';

const LISTENING = /"url":"(http:\/\/127\.0\.0\.1:\d+)","msg":"Countersign platform listening"/;

describe('countersign start', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'countersign-start-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));
  const base = { DATABASE_URL: '', COUNTERSIGN_DATA_DIR: join(cwd, 'db') };

  it('refuses COUNTERSIGN_TRUST_PROXY=true before opening anything, saying what to set', () => {
    const r = runCli(['start', '--port', '0'], cwd, { ...base, COUNTERSIGN_TRUST_PROXY: 'true' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/COUNTERSIGN_TRUST_PROXY=true is refused/);
    expect(r.stderr).toMatch(/address\(es\) of your reverse proxy/);
    expect(r.stderr).toMatch(/number of proxy hops/);
  });

  it('refuses a clock skew over 300 s and a bad shutdown timeout', () => {
    const skew = runCli(['start', '--port', '0'], cwd, {
      ...base,
      COUNTERSIGN_CLOCK_SKEW_SECONDS: '3600',
    });
    expect(skew.status).toBe(1);
    expect(skew.stderr).toMatch(/COUNTERSIGN_CLOCK_SKEW_SECONDS must be an integer from 0 to 300/);
    const timeout = runCli(['start', '--port', '0'], cwd, {
      ...base,
      COUNTERSIGN_SHUTDOWN_TIMEOUT_SECONDS: 'soon',
    });
    expect(timeout.status).toBe(2);
    expect(timeout.stderr).toMatch(/COUNTERSIGN_SHUTDOWN_TIMEOUT_SECONDS must be a number/);
  });

  it('documents hop count / proxy addresses, never true, in --help', () => {
    const help = runCli(['start', '--help'], cwd);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/COUNTERSIGN_TRUST_PROXY/);
    expect(help.stdout).toMatch(/number of proxy hops/);
    expect(help.stdout).toMatch(/"true" is refused/);
    expect(help.stdout).not.toMatch(/\(true \|/);
    expect(help.stdout).toMatch(/COUNTERSIGN_METRICS/);
    expect(help.stdout).toMatch(/COUNTERSIGN_SHUTDOWN_TIMEOUT_SECONDS/);
  });

  it('COUNTERSIGN_METRICS=false serves no /metrics; SIGTERM with nothing in flight exits 0', async () => {
    const server = await startCli(['start', '--port', '0'], cwd, LISTENING, {
      ...base,
      COUNTERSIGN_METRICS: 'false',
    });
    const url = server.match[1] ?? '';
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    server.child.kill('SIGTERM');
    expect(await exitOf(server.child)).toBe(0);
  });

  it('cuts connections and exits 1 when graceful close misses COUNTERSIGN_SHUTDOWN_TIMEOUT_SECONDS', async () => {
    const server = await startCli(['start', '--port', '0'], cwd, LISTENING, {
      ...base,
      COUNTERSIGN_SHUTDOWN_TIMEOUT_SECONDS: '1',
    });
    const { port } = new URL(server.match[1] ?? '');
    // A request whose body never finishes (its credential is in the body, so nothing answers it
    // before): graceful close would wait for it indefinitely. (One whose headers never finish has
    // not started: the close cuts it at once, graceful-close.ts.)
    const socket: Socket = await new Promise((resolve, reject) => {
      const s = connect(Number(port), '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(
      'POST /cosigner/v1/token HTTP/1.1\r\nHost: localhost\r\n' +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    const started = Date.now();
    const exited = exitOf(server.child);
    server.child.kill('SIGTERM');
    expect(await exited).toBe(1);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(8000);
    expect(server.output()).toMatch(
      /graceful shutdown did not finish within 1 s; closing all connections and exiting/,
    );
    await socketClosed;
  });
});
