// The app in real Chromium against each shell (the Worker, the native server), with real etcd
// members for the inspector. Screenshots go to $SCREENSHOTS_DIR (default target/screenshots;
// `make screenshots` writes docs/), taken from the first shell's run.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { root, scratch, startService, startEtcd, startClassic, browser, eventually, shells } from './harness.mjs';

const PORT = 18792;
const CLASSIC = 29600;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGm7mRZ2s0Y8l5w3Qf4QvZ1mX2k9yq8e1O3Jc7dFhQ1b me@laptop';
const PASTE_LABEL = 'Token, discovery URL, registry JSON';
const CHECK_LABEL = 'Butane config (variant: flatcar, 1.0.0 or 1.1.0), Ignition JSON';
// The #cloud-config of the seeds' cluster discovery guide (../shared/reference/seeds/002_*),
// as written there, etcd 0.4 and fleet included.
const SEED_CLOUD_CONFIG = [
  '#cloud-config',
  '',
  'coreos:',
  '  etcd:',
  '    # generate a new token for each unique cluster from https://discovery.etcd.io/new',
  '    discovery: https://discovery.etcd.io/<token>',
  '    # multi-region and multi-cloud deployments need to use $public_ipv4',
  '    addr: $private_ipv4:4001',
  '    peer-addr: $private_ipv4:7001',
  '  units:',
  '    - name: etcd.service',
  '      command: start',
  '    - name: fleet.service',
  '      command: start',
  '',
].join('\n');
const shots = process.env.SCREENSHOTS_DIR || join(root, 'target', 'screenshots');

for (const shell of shells()) describe(shell, () => {
  let dir, service, chrome, minted, classic;
  const shoot = (page, name, fullPage = false) => (shell === shells()[0] ? page.screenshot({ path: join(shots, name), fullPage }) : undefined);

  before(async () => {
    dir = scratch(`ui-${shell}`);
    classic = await startClassic(dir, CLASSIC);
    // The relay may read the classic stack (plain http, so listed with its scheme).
    service = await startService(shell, PORT, dir, { RELAY_HOSTS: `discovery.etcd.io,${classic.base}` });
    chrome = await browser();
    mkdirSync(shots, { recursive: true });
  });

  after(async () => {
    await chrome?.close();
    service?.stop();
    classic?.stop();
  });

  async function open(path) {
    const page = await chrome.newPage({ viewport: { width: 1300, height: 1000 } });
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e.message));
    // A CSP that blocked any part of the app would show here.
    page.on('console', (m) => { if (/Content Security Policy|Refused to/.test(m.text())) page.errors.push(m.text()); });
    await page.goto(`${service.base}${path}`);
    return page;
  }

  /// The page's texts equal what the API answers for the query now in the page's URL.
  async function sameAsApi(page) {
    const query = new URL(page.url()).search;
    for (const [id, path] of [['#butane-yaml', '/butane'], ['#ignition-json', '/ignition']]) {
      const shown = await page.locator(id).textContent();
      const served = await (await fetch(`${service.base}${path}${query}`)).text();
      assert.equal(shown, served, `${id} differs from ${path}${query}`);
    }
  }

  test('the builder shows what the API serves, for two platforms, as the user types', async () => {
    const discovery = encodeURIComponent(`${service.base}/6a28e078895c5ec737174db2419bb2f3`);
    const page = await open(`/?platform=ec2&discovery=${discovery}&ssh_key=${encodeURIComponent(KEY)}`);
    const butane = page.locator('#butane-yaml');
    await eventually('the EC2 config', async () => (await butane.textContent()).includes('${COREOS_EC2_IPV4_LOCAL}'));
    await sameAsApi(page);

    await page.getByLabel('Platform', { exact: true }).selectOption('gce');
    await page.getByRole('radio', { name: 'Public address' }).check();
    await page.getByLabel('Also listen on the legacy ports 4001 and 7001').check();
    await page.getByLabel('Butane version').selectOption('1.1.0');
    await eventually('the GCE config', async () => (await butane.textContent()).includes('${COREOS_GCE_IP_EXTERNAL_0}:4001'));
    assert.match(page.url(), /platform=gce/);
    assert.match(page.url(), /legacy_ports=true/);
    assert.match(await page.locator('#ignition-json').textContent(), /"version": "3.4.0"/);
    await sameAsApi(page);

    // A link reproduces the config.
    const again = await open(new URL(page.url()).pathname + new URL(page.url()).search);
    assert.equal(await again.locator('#butane-yaml').textContent(), await butane.textContent());
    await shoot(page, 'builder.png');
    assert.deepEqual(page.errors, []);
  });

  test('an etcd 3.6 tag picks v3 discovery, with the token and gRPC endpoints in the drop-in', async () => {
    const url = `${service.base}/6a28e078895c5ec737174db2419bb2f3`;
    const page = await open(`/?discovery=${encodeURIComponent(url)}&ssh_key=${encodeURIComponent(KEY)}`);
    const butane = page.locator('#butane-yaml');
    await eventually('the v2 config', async () => (await butane.textContent()).includes(`--discovery="${url}"`));
    await page.getByLabel('etcd image tag').fill('v3.6.4');
    assert.ok(await page.getByRole('radio', { name: 'v3 discovery (etcd 3.6 and later)' }).isChecked());
    await page.getByLabel('Discovery gRPC endpoints (host:port)').fill('127.0.0.1:2379');
    await eventually('the v3 flags', async () => (await butane.textContent()).includes('--discovery-endpoints="127.0.0.1:2379"'));
    assert.match(await butane.textContent(), /--discovery-token="6a28e078895c5ec737174db2419bb2f3"/);
    assert.doesNotMatch(await butane.textContent(), /--discovery="/);
    assert.match(page.url(), /bootstrap=v3/);
    await sameAsApi(page);
    // v2 discovery chosen with etcd 3.7, which removed it: warned.
    await page.getByLabel('etcd image tag').fill('v3.7.0');
    await page.getByRole('radio', { name: 'Discovery URL (etcd 3.4, 3.5)' }).check();
    const problems = page.getByRole('list', { name: 'Problems' });
    await eventually('the 3.7 warning', async () => (await problems.textContent()).includes('etcd 3.7 removed v2 discovery'));
    assert.deepEqual(page.errors, []);
  });

  test('mistakes are explained and produce no config', async () => {
    const page = await open('/?platform=ec2&discovery=ftp%3A%2F%2Fnope&size=4');
    const problems = page.getByRole('list', { name: 'Problems' });
    await eventually('the errors', async () => (await problems.textContent()).includes('not an http:// or https:// URL'));
    assert.match(await problems.textContent(), /even size \(4\)/);
    assert.equal(await page.locator('#butane-yaml').count(), 0);
    assert.deepEqual(page.errors, [], 'the app ran under its CSP without violations');
  });

  test('a token minted from the page is a working discovery token', async () => {
    const page = await open('/');
    // The first view: the config the defaults make, the missing URL marked, copy and download
    // held back until there is one.
    await eventually('the draft', async () => (await page.locator('#butane-yaml').textContent()).includes('MISSING-DISCOVERY-URL'));
    assert.match(await page.getByRole('note', { name: 'Draft' }).textContent(), /Copy and download wait/);
    assert.ok(await page.getByRole('button', { name: 'Download Butane' }).isDisabled());
    assert.ok(await page.getByRole('button', { name: 'Copy Ignition' }).isDisabled());
    await page.getByLabel('Cluster size').fill('3');
    await page.getByRole('button', { name: 'Mint a token' }).click();
    const field = page.getByRole('textbox', { name: 'Discovery URL' });
    minted = await eventually('the minted URL', async () => {
      const v = await field.inputValue();
      return /^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{32}$/.test(v) && v;
    });
    const size = await (await fetch(`${minted}/_config/size`)).json();
    assert.equal(size.node.value, '3');
    assert.ok(page.url().includes(encodeURIComponent(minted)), 'the URL keeps it');
    assert.match(await page.locator('#butane-yaml').textContent(), new RegExp(`--discovery="${minted}"`));

    // The download offers exactly the text shown.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download Butane' }).click()]);
    assert.equal(download.suggestedFilename(), 'etcd.bu');
    assert.equal(readFileSync(await download.path(), 'utf8'), await page.locator('#butane-yaml').textContent());
  });

  test('the builder warns when the discovery token is already in use', async () => {
    const url = await (await fetch(`${service.base}/new?size=3`)).text();
    const put = await fetch(`${url}/0a1b2c3d4e5f6a7b?prevExist=false`, {
      method: 'PUT', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'value=m9%3Dhttp%3A%2F%2F10.0.0.9%3A2380',
    });
    assert.equal(put.status, 201);
    const page = await open(`/?discovery=${encodeURIComponent(url)}`);
    const problems = page.getByRole('list', { name: 'Problems' });
    await eventually('the reuse warning', async () => (await problems.textContent()).includes('already has 1 member(s) registered'));
    // A fresh token carries no such warning.
    await page.getByRole('button', { name: 'Mint a token' }).click();
    await eventually('a fresh token', async () => (await page.getByRole('textbox', { name: 'Discovery URL' }).inputValue()) !== url);
    await eventually('the warning to go', async () => !(await problems.textContent()).includes('already has'));
  });

  test('the inspector follows real etcd members as they join, live', async () => {
    assert.ok(minted, 'needs the minted token');
    const page = await open('/#inspect');
    await page.getByLabel(PASTE_LABEL).fill(minted);
    await page.getByRole('button', { name: 'Inspect' }).click();
    const diagnosis = page.getByRole('list', { name: 'Diagnosis' });
    await eventually('the fresh token', async () => (await diagnosis.textContent()).includes('fresh'));
    const progress = page.getByRole('progressbar', { name: 'Members joined' });
    assert.equal(await progress.getAttribute('value'), '0');
    assert.equal(await page.getByRole('img', { name: /Cluster picture: 0 voting member\(s\), 3 open seat/ }).locator('g.seat').count(), 3);

    const members = ['m1', 'm2', 'm3'].map((name, i) => startEtcd(dir, name, 27000, i + 1, minted));
    try {
      await eventually('all three joined', async () => (await diagnosis.textContent()).includes('complete: 3 of 3'), 90000);
      assert.equal(await progress.getAttribute('value'), '3');
      const rows = page.getByRole('table', { name: 'Members' }).locator('tbody tr');
      assert.equal(await rows.count(), 3);
      const names = await rows.locator('td:nth-child(2)').allTextContents();
      assert.deepEqual([...names].sort(), ['m1', 'm2', 'm3']);
      for (const m of members) {
        await eventually(`${m.name} healthy`, async () => (await (await fetch(`${m.client}/health`)).json()).health === 'true');
      }
      // The timeline, from this service's registration times, and the picture of the cluster.
      const steps = page.getByRole('list', { name: 'Timeline' }).locator('li');
      await eventually('three on the timeline', async () => (await steps.count()) === 3);
      const timing = await page.getByRole('list', { name: 'Timing' }).textContent();
      assert.match(timing, /m\d registered \d+(\.\d)? m?s after m\d/);
      assert.match(timing, /the cluster was complete \d+(\.\d)? m?s after the first registration/);
      const picture = page.getByRole('img', { name: 'Cluster picture: 3 voting member(s), 0 open seat(s), 0 proxy member(s)' });
      assert.equal(await picture.locator('g[data-role=voting]').count(), 3);
      assert.equal(await picture.locator('line.peer').count(), 3, 'each pair of voters joined');
      // The member key tool agrees with the key etcd registered.
      await page.getByLabel('Peer URLs of a member').fill(members[0].peer);
      const row = rows.filter({ hasText: members[0].peer });
      const key = await row.locator('td:nth-child(4)').textContent();
      assert.match(await page.getByRole('status', { name: 'Member key' }).textContent(), new RegExp(`registers this member as ${key}$`));
      await shoot(page, 'inspector.png', true);
    } finally {
      members.forEach((m) => m.stop());
    }
    assert.deepEqual(page.errors, []);
  });

  test('a failed member\'s log is explained in the inspector, with its seat and the token live', async () => {
    const token = await (await fetch(`${service.base}/new?size=3`)).text();
    const founders = ['x1', 'x2', 'x3'].map((name, i) => startEtcd(dir, name, 27100, i + 1, token));
    let late;
    try {
      for (const m of founders) {
        await eventually(`${m.name} healthy`, async () => (await (await fetch(`${m.client}/health`).catch(() => null))?.json().catch(() => ({})))?.health === 'true', 90000);
      }
      // A fourth machine on the full token: etcd 3.4 runs it as a proxy.
      late = startEtcd(dir, 'x4', 27100, 4, token);
      const logFile = join(dir, 'x4.log');
      await eventually('the proxy fallback in its log', async () => readFileSync(logFile, 'utf8').includes('cluster is full'), 60000);
      const log = readFileSync(logFile, 'utf8');
      const page = await open('/#inspect');
      await page.getByLabel(PASTE_LABEL).fill(log);
      await page.getByRole('button', { name: 'Inspect' }).click();
      const verdict = page.locator('#explain-verdict');
      await eventually('the explanation', async () => (await verdict.count()) === 1);
      assert.equal(await verdict.textContent(), 'x4 runs as a v2 proxy, not as a member: the token was full when it registered.');
      assert.equal(await page.locator('#explain-findings li[data-topic="became-proxy"]').count(), 1);
      // The API says the same.
      const api = await (await fetch(`${service.base}/explain`, { method: 'POST', body: log, headers: { Accept: 'application/json' } })).json();
      assert.equal(api.verdict, await verdict.textContent());
      // Its seat, from the token read live, and the token's own state.
      const seat = page.locator('#explain-seat');
      await eventually('the seat', async () => (await seat.count()) === 1);
      assert.match(await seat.textContent(), /^x4 \([0-9a-f]+\) holds no seat: the token has its 3 members and this one is not among them\.$/);
      await eventually('the token complete', async () => (await page.getByRole('list', { name: 'Diagnosis' }).textContent()).includes('complete: 3 of 3'));
      // The page's URL keeps the token, never the log.
      const hash = decodeURIComponent(new URL(page.url()).hash);
      assert.equal(hash, `#inspect=${token}`);
      await shoot(page, 'inspector-explain.png', true);
      assert.deepEqual(page.errors, []);
    } finally {
      founders.forEach((m) => m.stop());
      late?.stop();
    }
  });

  test('a classic-stack token, which sends no CORS headers, is read through the relay', async () => {
    const url = await (await fetch(`${classic.base}/new?size=3`)).text();
    assert.match(url, new RegExp(`^${classic.base}/[0-9a-f]{32}$`));
    const put = await fetch(`${url}/0a1b2c3d4e5f6a7b?prevExist=false`, {
      method: 'PUT', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'value=c1%3Dhttp%3A%2F%2F10.0.0.21%3A2380',
    });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('access-control-allow-origin'), null, 'the classic stack allows no page');
    const page = await open('/#inspect');
    await page.getByLabel(PASTE_LABEL).fill(url);
    await page.getByRole('button', { name: 'Inspect' }).click();
    const status = page.getByRole('status', { name: 'Inspection' });
    await eventually('the relayed registry', async () => (await status.textContent()).includes("through this service's relay"), 30000);
    assert.match(await status.textContent(), /sends no CORS headers/);
    assert.match(await page.getByRole('list', { name: 'Diagnosis' }).textContent(), /waiting: 1 of 3/);
    const rows = page.getByRole('table', { name: 'Members' }).locator('tbody tr');
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.locator('td:nth-child(2)').textContent(), 'c1');
    // Followed through the relay: a second member shows without a new inspection.
    await fetch(`${url}/0a1b2c3d4e5f6a7c?prevExist=false`, {
      method: 'PUT', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'value=c2%3Dhttp%3A%2F%2F10.0.0.22%3A2380',
    });
    await eventually('the second member', async () => (await rows.count()) === 2, 20000);
    const picture = page.getByRole('img', { name: 'Cluster picture: 2 voting member(s), 1 open seat(s), 0 proxy member(s)' });
    assert.equal(await picture.locator('g[data-role=open] text').textContent(), 'waiting');
    await shoot(page, 'inspector-relay.png', true);

    // A host the relay does not serve is refused with the reason, and nothing of the last
    // inspection stays on the page.
    await page.getByLabel(PASTE_LABEL).fill('http://127.0.0.1:1/6a28e078895c5ec737174db2419bb2f3');
    await page.getByRole('button', { name: 'Inspect' }).click();
    await eventually('the refusal', async () => (await status.textContent()).includes('does not read from 127.0.0.1:1'), 30000);
    assert.equal(await page.getByRole('table', { name: 'Members' }).count(), 0);
    assert.equal(await page.getByRole('list', { name: 'Diagnosis' }).count(), 0);
    assert.deepEqual(page.errors.filter((e) => !/CORS|Failed to fetch|ERR_/.test(e)), []);
  });

  test('each address check says what is wrong, and the picture shows voters and a proxy', async () => {
    const url = await (await fetch(`${service.base}/new?size=3`)).text();
    for (const [key, value] of [
      ['0000000000000001', 'a=http://10.0.0.1:2380'],
      ['0000000000000002', 'b=https://203.0.113.5:2380'],
      ['0000000000000003', 'a=http://127.0.0.1:12380'],
      ['0000000000000004', 'd=http://10.0.0.1:2380'],
    ]) {
      const r = await fetch(`${url}/${key}?prevExist=false`, {
        method: 'PUT', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `value=${encodeURIComponent(value)}`,
      });
      assert.equal(r.status, 201);
    }
    const page = await open('/#inspect');
    await page.getByLabel(PASTE_LABEL).fill(url);
    await page.getByRole('button', { name: 'Inspect' }).click();
    const diagnosis = page.getByRole('list', { name: 'Diagnosis' });
    await eventually('the diagnosis', async () => (await diagnosis.textContent()).includes('complete: 3 of 3'));
    const says = async (check) => (await diagnosis.locator(`li[data-check="${check}"]`).allTextContents()).join(' | ');
    assert.match(await says('duplicate-name'), /the name "a" is used by more than one member/);
    assert.match(await says('duplicate-peer-url'), /http:\/\/10\.0\.0\.1:2380 is registered by more than one member/);
    assert.match(await says('local-address'), /loopback address registered by 0000000000000003 \(127\.0\.0\.1\): only the machine itself can reach/);
    assert.match(await says('mixed-schemes'), /use https and the rest http/);
    assert.match(await says('mixed-scopes'), /mix private addresses \(2\) and public ones \(1\)/);
    assert.match(await says('port'), /peer port other than etcd's usual 2380, registered by 0000000000000003 \(12380\)/);
    assert.match(await says('key-mismatch'), /its key does not match its peer URLs/);
    assert.equal(await diagnosis.locator('li[data-check="port"]').getAttribute('class'), 'info');
    const picture = page.getByRole('img', { name: 'Cluster picture: 3 voting member(s), 0 open seat(s), 1 proxy member(s)' });
    assert.equal(await picture.locator('g[data-role=proxy]').count(), 1);
    assert.equal(await picture.locator('g[data-role=proxy] text').textContent(), 'd');
    await shoot(page, 'inspector-checks.png', true);
    assert.deepEqual(page.errors, []);
  });

  test('the docs\' loose registry dump shows three members', async () => {
    const page = await open('/#inspect');
    await page.getByLabel(PASTE_LABEL).fill(readFileSync(join(root, 'e2e/browser/fixtures/loose-dump.txt'), 'utf8'));
    await page.getByLabel('Size (for pasted JSON)').fill('3');
    await page.getByRole('button', { name: 'Inspect' }).click();
    const rows = page.getByRole('table', { name: 'Members' }).locator('tbody tr');
    await eventually('three rows', async () => (await rows.count()) === 3);
    assert.deepEqual(await rows.locator('td:nth-child(2)').allTextContents(), ['node-a', 'node-b', 'node-c']);
    assert.match(await page.getByRole('list', { name: 'Diagnosis' }).textContent(), /complete: 3 of 3/);
  });

  test('registry content is shown as text, never as markup', async () => {
    const url = await (await fetch(`${service.base}/new?size=3`)).text();
    const evil = '<img src=x onerror="window.__pwned=1">=http://10.0.0.1:2380,<script>window.__pwned=2</script>=http://10.0.0.2:2380';
    const put = await fetch(`${url}/a1b2c3d4e5f60718?prevExist=false`, {
      method: 'PUT', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `value=${encodeURIComponent(evil)}`,
    });
    assert.equal(put.status, 201);
    const page = await open('/#inspect');
    await page.getByLabel(PASTE_LABEL).fill(url);
    await page.getByRole('button', { name: 'Inspect' }).click();
    const table = page.getByRole('table', { name: 'Members' });
    // The value splits at its first '=' as etcd's name=url does: the name cell reads "<img src".
    await eventually('the hostile row', async () => {
      const text = await table.textContent();
      return text.includes('<img src') && text.includes('onerror="window.__pwned=1">') && text.includes('<script>');
    });
    assert.equal(await table.locator('img, script').count(), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(page.errors, []);
  });

  /// Registers `n` members on a fresh token of `size`, straight through the keys API.
  async function tokenWith(size, n) {
    const url = await (await fetch(`${service.base}/new?size=${size}`)).text();
    for (let i = 0; i < n; i++) {
      const put = await fetch(`${url}/${(0xa0 + i).toString(16)}1b2c3d4e5f6a7b?prevExist=false`, {
        method: 'PUT', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `value=m${i}%3Dhttp%3A%2F%2F10.0.0.${i + 1}%3A2380`,
      });
      assert.equal(put.status, 201);
    }
    return url;
  }

  const CONFIG = [
    'variant: flatcar',
    'version: 1.1.0',
    'storage:',
    '  files:',
    '    - path: /etc/motd',
    '      mode: 0644',
    '      contents:',
    '        inline: Welcome <&> to Flatcar',
    'systemd:',
    '  units:',
    '    - name: hello.service',
    '      enabled: true',
    '      contents: |',
    '        [Service]',
    '        ExecStart=/usr/bin/echo hello',
    '        [Install]',
    '        WantedBy=multi-user.target',
    '',
  ].join('\n');

  test('the check page shows an error at its line as the user types, and a link reopens it', async () => {
    const page = await open('/#check');
    const area = page.getByLabel(CHECK_LABEL);
    await area.fill(CONFIG);
    await eventually('the translation', async () => (await page.locator('#check-summary').textContent()).includes('Translates to Ignition 3.4.0'));
    // Typing a relative path: the error appears under line 5, at its column.
    await area.fill(CONFIG.replace('path: /etc/motd', 'path: etc/motd'));
    const note = page.locator('#check-annotated .note.error[data-line="5"]');
    await eventually('the error under line 5', async () => (await note.count()) === 1);
    assert.equal(await note.textContent(), ' '.repeat(12) + '^ path not absolute');
    assert.match(await page.locator('#check-annotated .line.error[data-line="5"]').textContent(), /path: etc\/motd$/);
    assert.match(await page.getByRole('list', { name: 'Findings' }).textContent(), /error line 5, column 13 at \$\.storage\.files\.0\.path: path not absolute/);
    assert.match(await page.locator('#check-summary').textContent(), /butane refuses it: config generated was invalid/);
    // butane's own report, as the API gives a terminal.
    const api = await fetch(`${service.base}/ignition?pretty`, { method: 'POST', body: CONFIG.replace('path: /etc/motd', 'path: etc/motd') });
    assert.equal(api.status, 400);
    assert.equal(await page.locator('#check-report').textContent(), await api.text());
    assert.equal(await page.locator('#check-ignition').count(), 0);
    await shoot(page, 'check-error.png', true);
    // The URL holds the config: opening it shows the same.
    const again = await open(new URL(page.url()).pathname + new URL(page.url()).hash);
    await eventually('the reopened check', async () => (await again.locator('#check-annotated .note.error[data-line="5"]').count()) === 1);
    assert.deepEqual(page.errors, []);
  });

  test('a valid config\'s Ignition on the check page is the API\'s, byte for byte', async () => {
    const page = await open('/#check');
    await page.getByLabel(CHECK_LABEL).fill(CONFIG);
    const shown = page.locator('#check-ignition');
    await eventually('the Ignition', async () => (await shown.count()) === 1);
    const api = await fetch(`${service.base}/ignition?pretty&strict`, { method: 'POST', body: CONFIG });
    assert.equal(api.status, 200);
    const served = await api.text();
    assert.equal(await shown.textContent(), served);
    assert.match(served, /Welcome%20%3C%26%3E%20to%20Flatcar/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download Ignition' }).click()]);
    assert.equal(download.suggestedFilename(), 'config.ign');
    assert.equal(readFileSync(await download.path(), 'utf8'), served);
    await shoot(page, 'check.png', true);
    assert.deepEqual(page.errors, []);
  });

  test('a file attached on the check page serves a local: reference', async () => {
    const config = CONFIG.replace('inline: Welcome <&> to Flatcar', 'local: motd.txt');
    const page = await open('/#check');
    await page.getByLabel(CHECK_LABEL).fill(config);
    const findings = page.getByRole('list', { name: 'Findings' });
    await eventually('the missing files directory', async () => (await findings.textContent()).includes('-d/--files-dir'));
    await page.locator('#check-files').setInputFiles({ name: 'motd.txt', mimeType: 'text/plain', buffer: Buffer.from('Attached motd\n') });
    const shown = page.locator('#check-ignition');
    await eventually('the Ignition', async () => (await shown.count()) === 1);
    assert.match(await shown.textContent(), /"source": "data:,Attached%20motd%0A"/);
    assert.match(await page.getByRole('list', { name: 'Attached files' }).textContent(), /motd\.txt \(14 bytes\)/);
    // The same config with the text inline translates to the same Ignition through the API.
    const api = await fetch(`${service.base}/ignition?pretty`, { method: 'POST', body: CONFIG.replace('Welcome <&> to Flatcar', '"Attached motd\\n"') });
    assert.equal(await shown.textContent(), await api.text());
    assert.deepEqual(page.errors, []);
  });

  test('the check page reads the etcd unit: the builder\'s warnings and the live token', async () => {
    const full = await tokenWith(3, 3);
    const etcd = [
      'variant: flatcar',
      'version: 1.0.0',
      'systemd:',
      '  units:',
      '    - name: etcd-member.service',
      '      enabled: true',
      '      dropins:',
      '        - name: 20-etcd.conf',
      '          contents: |',
      '            [Service]',
      '            Environment="ETCD_IMAGE_TAG=v3.7.0"',
      '            ExecStart=',
      '            ExecStart=/usr/lib/flatcar/etcd-wrapper $ETCD_OPTS \\',
      `              --discovery="${full}" \\`,
      '              --initial-cluster="a=http://10.0.0.1:2380" \\',
      '              --advertise-client-urls=http://${COREOS_EC2_IPV4_PUBLIC}:2379',
      '',
    ].join('\n');
    const page = await open('/#check');
    await page.getByLabel(CHECK_LABEL).fill(etcd);
    const found = page.locator('#check-etcd');
    await eventually('the live token', async () => (await page.locator('#check-token').count()) === 1);
    assert.match(await page.locator('#check-token').textContent(), /this token already has 3 of 3 members: a machine booted with this config would not join/);
    const text = await found.textContent();
    assert.match(text, /etcd refuses --discovery together with --initial-cluster/);
    assert.match(text, /etcd 3\.7 removed v2 discovery/);
    assert.match(text, /COREOS_EC2_IPV4_PUBLIC\} is AWS EC2's public address/);
    assert.match(text, /no --initial-advertise-peer-urls/);
    await shoot(page, 'check-etcd.png', true);
    // A token with room says so.
    const room = await tokenWith(3, 1);
    await page.getByLabel(CHECK_LABEL).fill(etcd.replace(full, room));
    await eventually('the token with room', async () => /has 1 of 3 members: 2 more machine/.test(await page.locator('#check-token').textContent().catch(() => '')));
    assert.deepEqual(page.errors, []);
  });

  test('the seed\'s #cloud-config is brought forward on the check page, and opens in the builder', async () => {
    const seeds = join(root, '..', 'shared', 'reference', 'seeds');
    if (existsSync(seeds)) {
      const guide = readdirSync(seeds).map((f) => readFileSync(join(seeds, f), 'utf8')).find((t) => t.includes('addr: $private_ipv4:4001'));
      assert.ok(guide?.includes(SEED_CLOUD_CONFIG.trimEnd()), 'the seed\'s #cloud-config as the test has it');
    } else {
      console.log(`# ${seeds} is not here: the seed's #cloud-config is the test's own copy`);
    }
    // A token of this service in place of the guide's <token>, so that the page reads it live.
    const token = await tokenWith(3, 1);
    const config = SEED_CLOUD_CONFIG.replace('https://discovery.etcd.io/<token>', token);
    const page = await open('/#check');
    await page.locator('#check-platform').selectOption('ec2');
    await page.getByLabel(CHECK_LABEL).fill(config);
    const butane = page.locator('#check-butane');
    await eventually('the migrated Butane', async () => (await butane.count()) === 1);
    const shown = await butane.textContent();
    assert.match(shown, /^variant: flatcar\nversion: 1\.1\.0\n/);
    assert.ok(shown.includes(`--discovery="${token}"`), shown);
    assert.ok(shown.includes('--initial-advertise-peer-urls="http://${COREOS_EC2_IPV4_LOCAL}:7001"'), shown);
    // The report: every line that changed or was dropped, with why, and on the pasted text.
    const report = await page.getByRole('list', { name: 'What changed or was dropped' }).textContent();
    assert.match(report, /changed line 8, coreos\.etcd\.addr: etcd 0\.4's client address/);
    assert.match(report, /dropped line 13, coreos\.units\.1: fleet no longer exists/);
    assert.match(await page.locator('#check-annotated .note.warning[data-line="13"]').textContent(), /\^ dropped: fleet no longer exists/);
    assert.match(await page.locator('#check-summary').textContent(), /This is a #cloud-config, brought forward to Butane for AWS EC2: 5 lines changed, 1 dropped/);
    // The same migration as the API's, and its Ignition as butane --pretty would write it.
    const api = await (await fetch(`${service.base}/butane/migrate?platform=ec2`, { method: 'POST', body: config, headers: { Accept: 'application/json' } })).json();
    assert.equal(shown, api.butane);
    assert.equal(await page.locator('#check-ignition').textContent(), `${api.ignition}\n`);
    // The token it names, read live.
    await eventually('the live token', async () => /has 1 of 3 members/.test(await page.locator('#check-token').textContent().catch(() => '')));
    // The builder, opened from it: same token and platform, and what it would write otherwise.
    const fit = await page.locator('#check-fit').textContent();
    assert.match(fit, /--listen-peer-urls=http:\/\/\$\{COREOS_EC2_IPV4_LOCAL\}:7001: the builder writes/);
    await shoot(page, 'check-migrate.png', true);
    assert.deepEqual(page.errors, []);
    await page.locator('#check-open-builder').click();
    await eventually('the builder', async () => (await page.locator('#discovery').count()) === 1);
    assert.equal(await page.locator('#discovery').inputValue(), token);
    assert.equal(await page.locator('#platform').inputValue(), 'ec2');
    assert.ok((await page.locator('#butane-yaml').textContent()).includes(`--discovery="${token}"`));
    await sameAsApi(page);
    assert.deepEqual(page.errors, []);
  });

  test('a link to an inspection opens it', async () => {
    const url = await tokenWith(3, 2);
    const page = await open('/#inspect');
    await page.getByLabel(PASTE_LABEL).fill(url);
    await page.getByRole('button', { name: 'Inspect' }).click();
    await eventually('the URL to hold the inspection', async () => page.url().includes(`#inspect=${encodeURIComponent(url)}`));
    const link = new URL(page.url());
    const again = await open(link.pathname + link.hash);
    const rows = again.getByRole('table', { name: 'Members' }).locator('tbody tr');
    await eventually('the two members, with no click', async () => (await rows.count()) === 2);
    assert.equal(await again.getByLabel(PASTE_LABEL).inputValue(), url);
    assert.deepEqual(again.errors, []);
  });
});
