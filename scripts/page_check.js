#!/usr/bin/env node
// Loads a local HTML page in headless Chromium and reports, as JSON on stdout, what a person's browser would
// show: console errors and uncaught exceptions, every request the page made, the results of JavaScript
// expressions evaluated in it, and optionally a screenshot. Used by the report tests and by
// scripts/report_screenshot.sh.
//
//   node scripts/page_check.js PAGE.html [--eval EXPR]... [--screenshot OUT.png] [--width W] [--height H]
//                                        [--full-page]
//
// It speaks the DevTools protocol over a pipe (--remote-debugging-pipe: JSON messages ended by a NUL byte on
// file descriptors 3 and 4), so it needs only Node and Debian's chromium: no npm package, no port, no
// WebSocket. Chromium: $CHROMIUM, else /usr/bin/chromium. Exit status 0 when the page loaded (whatever it
// reports), 1 on any failure to drive the browser, 2 on a usage error.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

function usage(message) {
  process.stderr.write(`page_check: ${message}\nusage: node scripts/page_check.js PAGE.html [--eval EXPR]... ` +
                       '[--screenshot OUT.png] [--width W] [--height H] [--full-page]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { page: null, evals: [], screenshot: null, width: 1280, height: 900, fullPage: false };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '--eval') o.evals.push(value());
    else if (a === '--screenshot') o.screenshot = value();
    else if (a === '--width') o.width = Number(value());
    else if (a === '--height') o.height = Number(value());
    else if (a === '--full-page') o.fullPage = true;
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (o.page === null) o.page = a;
    else usage(`unexpected argument ${a}`);
  }
  if (o.page === null) usage('a page is required');
  if (!fs.existsSync(o.page)) usage(`${o.page}: no such file`);
  return o;
}

// A DevTools protocol connection over Chromium's debugging pipe.
class Browser {
  constructor(executable, profile) {
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                   '--disable-background-networking', '--disable-component-update', '--disable-sync',
                   '--disable-extensions', '--mute-audio', `--user-data-dir=${profile}`, '--remote-debugging-pipe',
                   'about:blank'];
    this.proc = spawn(executable, flags, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.nextId = 0;
    this.pending = new Map();
    this.listeners = [];
    let buffer = Buffer.alloc(0);
    this.proc.stdio[4].on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let end = buffer.indexOf(0); end >= 0; end = buffer.indexOf(0)) {
        this.dispatch(JSON.parse(buffer.subarray(0, end).toString('utf8')));
        buffer = buffer.subarray(end + 1);
      }
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
    this.proc.on('error', (e) => { for (const p of this.pending.values()) p.reject(e); });
  }
  dispatch(message) {
    if (message.id !== undefined && this.pending.has(message.id)) {
      const p = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) p.reject(new Error(`${p.method}: ${message.error.message}`));
      else p.resolve(message.result);
    } else {
      for (const listener of this.listeners) listener(message);
    }
  }
  send(method, params = {}, sessionId = undefined) {
    const message = { id: ++this.nextId, method, params };
    if (sessionId) message.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(message.id, { resolve, reject, method });
      this.proc.stdio[3].write(JSON.stringify(message) + '\0');
    });
  }
  waitFor(method, sessionId) {
    return new Promise((resolve) => this.listeners.push((m) => {
      if (m.method === method && m.sessionId === sessionId) resolve(m.params);
    }));
  }
}

function describeConsole(params) {
  return params.args.map((a) => (a.value !== undefined ? String(a.value) : a.description || a.type)).join(' ');
}

async function check(options, browser) {
  const pageUrl = 'file://' + path.resolve(options.page);
  const report = { page: pageUrl, console_errors: [], requests: [], evals: [], screenshot: null };
  const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
  browser.listeners.push((m) => {
    if (m.sessionId !== sessionId) return;
    const p = m.params;
    if (m.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert'))
      report.console_errors.push(`console.${p.type}: ${describeConsole(p)}`);
    else if (m.method === 'Runtime.exceptionThrown')
      report.console_errors.push(`exception: ${p.exceptionDetails.exception ? p.exceptionDetails.exception.description : p.exceptionDetails.text}`);
    else if (m.method === 'Log.entryAdded' && p.entry.level === 'error')
      report.console_errors.push(`log (${p.entry.source}): ${p.entry.text}`);
    // The page's own file and the data: URIs inside it are not requests to anywhere.
    else if (m.method === 'Network.requestWillBeSent' && p.request.url !== pageUrl && !p.request.url.startsWith('data:'))
      report.requests.push(p.request.url);
  });
  for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await browser.send(`${domain}.enable`, {}, sessionId);
  await browser.send('Emulation.setDeviceMetricsOverride',
                     { width: options.width, height: options.height, deviceScaleFactor: 1, mobile: false }, sessionId);
  const loaded = browser.waitFor('Page.loadEventFired', sessionId);
  await browser.send('Page.navigate', { url: pageUrl }, sessionId);
  await loaded;
  await new Promise((resolve) => setTimeout(resolve, 300));  // late console messages and requests
  for (const expression of options.evals) {
    const r = await browser.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, sessionId);
    if (r.exceptionDetails) report.console_errors.push(`--eval threw: ${r.exceptionDetails.exception.description}`);
    report.evals.push(r.result.value === undefined ? null : r.result.value);
  }
  if (options.screenshot) {
    const shot = { format: 'png' };
    if (options.fullPage) {
      const metrics = await browser.send('Page.getLayoutMetrics', {}, sessionId);
      const size = metrics.cssContentSize || metrics.contentSize;
      shot.clip = { x: 0, y: 0, width: options.width, height: Math.ceil(size.height), scale: 1 };
      shot.captureBeyondViewport = true;
    }
    const { data } = await browser.send('Page.captureScreenshot', shot, sessionId);
    fs.writeFileSync(options.screenshot, Buffer.from(data, 'base64'));
    report.screenshot = options.screenshot;
  }
  return report;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const executable = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executable)) {
    process.stderr.write(`page_check: ${executable} not found; install Debian's chromium (bash scripts/setup.sh chromium)\n`);
    process.exit(1);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'page_check-'));
  const browser = new Browser(executable, profile);
  const timer = setTimeout(() => {
    process.stderr.write(`page_check: timed out after 90 s\n${browser.stderr}`);
    browser.proc.kill('SIGKILL');
    process.exit(1);
  }, 90000);
  let status = 0;
  try {
    process.stdout.write(JSON.stringify(await check(options, browser), null, 1) + '\n');
    await browser.send('Browser.close').catch(() => {});
  } catch (e) {
    process.stderr.write(`page_check: ${e.message}\n${browser.stderr}`);
    browser.proc.kill('SIGKILL');
    status = 1;
  }
  await browser.exited;
  clearTimeout(timer);
  fs.rmSync(profile, { recursive: true, force: true });
  process.exit(status);
}

main();
