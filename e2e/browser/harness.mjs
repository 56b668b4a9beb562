// Processes the browser tests start: the service in either shell (the Worker under wrangler, the
// native server), etcd members, Chromium. Each runs in its own process group and is stopped by it.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function scratch(name) {
  const dir = join(tmpdir(), 'rendezvous-browser', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function group(cmd, args, log, env = {}) {
  const out = openSync(log, 'w');
  const child = spawn(cmd, args, { cwd: root, detached: true, stdio: ['ignore', out, out], env: { ...process.env, ...env } });
  return {
    child,
    stop() {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function eventually(what, fn, ms = 60000) {
  const start = Date.now();
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

export async function startWorker(port, dir, vars = {}) {
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]);
  const proc = group(join(root, 'node_modules/.bin/wrangler'),
    ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--persist-to', join(dir, 'state'),
      '--show-interactive-dev-session=false', ...varArgs],
    join(dir, 'wrangler.log'),
    { WRANGLER_SEND_METRICS: 'false', WRANGLER_SEND_ERROR_REPORTS: 'false', WRANGLER_HIDE_BANNER: 'true', CLOUDFLARE_CF_FETCH_ENABLED: 'false' });
  const base = `http://127.0.0.1:${port}`;
  await eventually('wrangler to serve', async () => (await fetch(`${base}/health`)).ok, 90000);
  return { base, stop: proc.stop };
}

/// The native server, with its store under `dir`.
export async function startNative(port, dir, vars = {}) {
  const bin = process.env.RENDEZVOUS_BIN || join(root, 'target/debug/rendezvous');
  const proc = group(bin, ['--listen', `127.0.0.1:${port}`, '--data-dir', join(dir, 'state'),
    '--assets', join(root, 'frontend/dist')], join(dir, 'native.log'), vars);
  const base = `http://127.0.0.1:${port}`;
  await eventually('rendezvous to serve', async () => (await fetch(`${base}/health`)).ok, 30000);
  return { base, stop: proc.stop };
}

/// The shells asked for by RENDEZVOUS_SHELLS (a comma list of worker and native; both by default).
export function shells() {
  const wanted = (process.env.RENDEZVOUS_SHELLS || '').split(',').map((s) => s.trim()).filter(Boolean);
  return ['worker', 'native'].filter((s) => wanted.length === 0 || wanted.includes(s));
}

/// Starts `shell` on `port` plus the shell's offset (the Rust harness's), so shells never share one,
/// with settings `vars` (`[vars]` for the Worker, environment variables for the native server).
export function startService(shell, port, dir, vars = {}) {
  return shell === 'worker' ? startWorker(port, dir, vars) : startNative(port + 1000, dir, vars);
}

/// The classic discovery stack, as discovery.etcd.io runs it: Debian's etcd-discovery in front
/// of an etcd 3.4 with the v2 API. etcd would allow every origin (its `--cors` default is `*`);
/// discovery.etcd.io allows none, so neither does this one: `--cors` names an origin no page has.
/// Answers on http://127.0.0.1:`port`.
export async function startClassic(dir, port) {
  const client = `http://127.0.0.1:${port + 1}`;
  const peer = `http://127.0.0.1:${port + 2}`;
  const backend = group('etcd', ['--name', 'classic-backend', '--enable-v2', '--data-dir', join(dir, 'classic.etcd'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `classic-backend=${peer}`,
    '--cors', 'https://no-page.invalid:443'],
  join(dir, 'classic-backend.log'));
  const base = `http://127.0.0.1:${port}`;
  const front = group('/usr/bin/discovery.etcd.io', ['--etcd', client, '--host', base, '--addr', `127.0.0.1:${port}`],
    join(dir, 'classic.log'));
  await eventually('the classic stack', async () => (await fetch(`${base}/new?size=3`)).ok, 30000);
  return { base, stop() { front.stop(); backend.stop(); } };
}

/// An etcd member on loopback: client port base+10n, peer port base+10n+1.
export function startEtcd(dir, name, base, n, discovery) {
  const client = `http://127.0.0.1:${base + 10 * n}`;
  const peer = `http://127.0.0.1:${base + 10 * n + 1}`;
  const proc = group('etcd', ['--name', name, '--data-dir', join(dir, `${name}.etcd`),
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--discovery', discovery, '--logger', 'zap', '--log-outputs', 'stderr'], join(dir, `${name}.log`));
  return { name, client, peer, stop: proc.stop };
}

export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}
