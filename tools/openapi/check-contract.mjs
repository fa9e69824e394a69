// Validates resources/api/fleet-api.yaml as OpenAPI 3.0, then starts fleet-sim and checks that every answer it
// gives (status code, content type, body) is one the contract documents, and that every documented operation
// was exercised. Usage: node check-contract.mjs --spec FILE --fleet-sim BINARY
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { spawn } from "node:child_process";
import http from "node:http";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), [])
);
if (!args.spec || !args["fleet-sim"]) {
  console.error("usage: node check-contract.mjs --spec fleet-api.yaml --fleet-sim path/to/fleet-sim");
  process.exit(2);
}

let failures = 0;
let passes = 0;
const fail = (what) => { failures++; console.log(`FAIL ${what}`); };
const pass = (what) => { passes++; console.log(`ok   ${what}`); };

// 1. The document itself.
let api;
try {
  await SwaggerParser.validate(args.spec);
  api = await SwaggerParser.dereference(args.spec);
  pass(`${args.spec} is valid OpenAPI ${api.openapi}`);
} catch (e) {
  fail(`${args.spec} is not valid OpenAPI 3.0: ${e.message}`);
  process.exit(1);
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map();
const validatorFor = (schema) => {
  if (!validators.has(schema)) validators.set(schema, ajv.compile(schema));
  return validators.get(schema);
};

// Path templates as regular expressions, to find the documented operation of a concrete request.
const operations = [];
for (const [template, item] of Object.entries(api.paths)) {
  const re = new RegExp("^" + template.replace(/\{[^}]+\}/g, "[^/]+") + "$");
  for (const method of ["get", "post", "delete", "put", "patch"]) {
    if (item[method]) operations.push({ template, method, re, op: item[method], used: false });
  }
}

// 2. fleet-sim, for real, on a free loopback port.
const sim = spawn(args["fleet-sim"], ["--port", "0", "--speed", "0", "--scenario", "upstream-packet-loss", "--seed", "3",
  "--warmup", "7200", "--rate-limit", "0", "--heartbeat-ms", "300"], { stdio: ["ignore", "pipe", "inherit"] });
const base = await new Promise((resolve, reject) => {
  let out = "";
  const timer = setTimeout(() => reject(new Error("fleet-sim did not say where it listens within 30 s")), 30000);
  sim.stdout.on("data", (d) => {
    out += d;
    const m = out.match(/listening on (http:\/\/[^\s]+)/);
    if (m) { clearTimeout(timer); resolve(m[1]); }
  });
  sim.on("exit", (code) => reject(new Error(`fleet-sim exited with ${code}`)));
}).catch((e) => { fail(e.message); process.exit(1); });

function request(method, path, { token = "view-secret", body, headers = {}, raw = false } = {}) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const h = { ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    let data;
    if (body !== undefined) {
      data = typeof body === "string" ? body : JSON.stringify(body);
      h["Content-Type"] = "application/json";
      h["Content-Length"] = Buffer.byteLength(data);
    }
    const req = http.request(url, { method, headers: h }, (res) => {
      let chunks = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (chunks += c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text: chunks }));
    });
    req.setTimeout(20000, () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

// Checks one answer against the contract.
async function check(method, path, options = {}, expectStatus) {
  const name = `${method} ${path}${options.label ? ` (${options.label})` : ""}`;
  let res;
  try {
    res = await request(method, path, options);
  } catch (e) {
    fail(`${name}: ${e.message}`);
    return null;
  }
  const bare = path.split("?")[0];
  const entry = operations.find((o) => o.method === method.toLowerCase() && o.re.test(bare));
  if (!entry) {
    if (res.status !== 404) fail(`${name}: answered ${res.status} but the path is not in the contract`);
    return res;
  }
  entry.used = true;
  if (expectStatus && res.status !== expectStatus) {
    fail(`${name}: expected ${expectStatus}, got ${res.status}: ${res.text.slice(0, 300)}`);
    return res;
  }
  const documented = entry.op.responses[String(res.status)];
  if (!documented) {
    fail(`${name}: status ${res.status} is not documented for ${entry.method.toUpperCase()} ${entry.template}`);
    return res;
  }
  const type = (res.headers["content-type"] || "").split(";")[0].trim();
  const content = documented.content || {};
  if (!content[type]) {
    fail(`${name}: content type "${type}" is not documented (documented: ${Object.keys(content).join(", ")})`);
    return res;
  }
  const schema = content[type].schema;
  if (type.endsWith("json") && schema) {
    let body;
    try { body = JSON.parse(res.text); } catch (e) { fail(`${name}: body is not JSON`); return res; }
    const validate = validatorFor(schema);
    if (!validate(body)) {
      fail(`${name}: body does not match the schema: ${ajv.errorsText(validate.errors).slice(0, 600)}`);
      return res;
    }
    res.json = body;
  }
  if (res.status === 201 && documented.headers && documented.headers.Location && !res.headers.location) {
    fail(`${name}: 201 without a Location header`);
    return res;
  }
  pass(`${name} -> ${res.status} ${type}`);
  return res;
}

try {
  const op = "op-secret";
  const admin = "admin-secret";
  await check("GET", "/v1/me", {}, 200);
  await check("GET", "/v1/me", { token: null, label: "no token" }, 401);
  await check("GET", "/v1/regions", { token: "wrong", label: "wrong token" }, 401);
  await check("GET", "/v1/regions", {}, 200);
  await check("GET", "/v1/regions/eu-central", {}, 200);
  await check("GET", "/v1/regions/mars", {}, 404);
  await check("GET", "/v1/regions/eu-central/health?from=-2h&step=300", {}, 200);
  await check("GET", "/v1/regions/eu-central/health?from=2025-11-12T06:00:00Z&to=2025-11-12T07:00:00Z&step=600", { label: "gaps" }, 200);
  await check("GET", "/v1/regions/eu-central/health?step=0", {}, 422);
  await check("GET", "/v1/workers?limit=3", {}, 200);
  await check("GET", "/v1/workers?region=eu-central&state=busy&arch=amd64", {}, 200);
  await check("GET", "/v1/workers?state=asleep", {}, 422);
  await check("GET", "/v1/workers/w-000001", {}, 200);
  await check("GET", "/v1/workers/w-999999", {}, 404);
  await check("GET", "/v1/fleet/snapshot", {}, 200);
  await check("GET", "/metrics", {}, 200);

  const prov = await check("POST", "/v1/regions/eu-west/provision", { token: op, headers: { "Idempotency-Key": "c1" },
    body: { count: 3, arch: "amd64", reason: "contract check", expires_at: "2025-11-12T20:00:00Z" } }, 201);
  const replay = await check("POST", "/v1/regions/eu-west/provision", { token: op, headers: { "Idempotency-Key": "c1" }, label: "replay",
    body: { count: 3, arch: "amd64", reason: "contract check", expires_at: "2025-11-12T20:00:00Z" } }, 200);
  if (replay && (replay.headers["idempotent-replayed"] !== "true" || replay.json.id !== prov.json.id))
    fail("a replayed provision must return the same operation with Idempotent-Replayed: true");
  await check("POST", "/v1/regions/eu-west/provision", { token: op, headers: { "Idempotency-Key": "c1" }, label: "key reuse",
    body: { count: 4, arch: "amd64", reason: "contract check" } }, 422);
  await check("POST", "/v1/regions/eu-west/provision?dry_run=true", { token: op, label: "dry run",
    body: { count: 3, arch: "amd64", reason: "preview" } }, 200);
  await check("POST", "/v1/regions/eu-west/provision", { token: op, label: "no key",
    body: { count: 3, arch: "amd64", reason: "x" } }, 428);
  await check("POST", "/v1/regions/eu-west/provision", { token: op, headers: { "Idempotency-Key": "c2" }, label: "bad json",
    body: "{\"count\":" }, 400);
  await check("POST", "/v1/regions/eu-west/provision", { token: "view-secret", headers: { "Idempotency-Key": "c3" }, label: "viewer",
    body: { count: 1, arch: "amd64", reason: "x" } }, 403);
  await check("POST", "/v1/regions/eu-west/provision", { token: op, headers: { "Idempotency-Key": "c4" }, label: "too large",
    body: { count: 1, arch: "amd64", reason: "x".repeat(70000) } }, 413);
  await check("POST", "/v1/regions/mars/provision", { token: op, headers: { "Idempotency-Key": "c5" },
    body: { count: 1, arch: "amd64", reason: "x" } }, 404);
  await check("POST", "/v1/regions/us-east/drain?dry_run=true", { token: op, body: { reason: "preview" } }, 200);
  await check("POST", "/v1/regions/us-east/drain", { token: op, headers: { "Idempotency-Key": "d1" }, body: { reason: "contract" } }, 201);
  await check("POST", "/v1/regions/us-east/drain", { token: op, headers: { "Idempotency-Key": "d2" }, label: "again", body: { reason: "contract" } }, 409);
  await check("POST", "/v1/regions/us-east/provision", { token: op, headers: { "Idempotency-Key": "d3" }, label: "draining region",
    body: { count: 1, arch: "amd64", reason: "x" } }, 409);
  await check("POST", "/v1/regions/us-east/resume", { token: op, headers: { "Idempotency-Key": "r1" }, body: { reason: "contract" } }, 201);
  await check("POST", "/v1/regions/us-east/resume", { token: op, headers: { "Idempotency-Key": "r2" }, label: "already active", body: { reason: "contract" } }, 409);
  await check("POST", "/v1/regions/us-east/resume", { token: op, headers: { "Idempotency-Key": "r3" }, label: "no reason", body: {} }, 422);
  const busy = await request("GET", "/v1/workers?state=busy&limit=1");
  const workerId = JSON.parse(busy.text).items[0].id;
  await check("POST", `/v1/workers/${workerId}/drain?dry_run=true`, { token: op, body: { reason: "preview" } }, 200);
  await check("POST", `/v1/workers/${workerId}/drain`, { token: op, headers: { "Idempotency-Key": "w1" }, body: { reason: "contract" } }, 201);
  await check("POST", `/v1/workers/${workerId}/drain`, { token: op, headers: { "Idempotency-Key": "w2" }, label: "again", body: { reason: "contract" } }, 409);
  await check("GET", "/v1/operations?limit=2", {}, 200);
  await check("GET", "/v1/operations?state=exploded", {}, 422);
  const opId = prov && prov.json ? prov.json.id : "op-000001";
  await check("GET", `/v1/operations/${opId}`, {}, 200);
  await check("GET", "/v1/operations/op-999999", {}, 404);
  await check("POST", `/v1/operations/${opId}/cancel`, { token: op, headers: { "Idempotency-Key": "x1" }, body: { reason: "contract" } }, 201);
  await check("POST", `/v1/operations/${opId}/cancel`, { token: op, headers: { "Idempotency-Key": "x2" }, label: "finished", body: { reason: "contract" } }, 409);
  await check("GET", "/v1/audit?limit=5", {}, 200);

  await check("GET", "/v1/sim/status", { token: admin }, 200);
  await check("GET", "/v1/sim/status", { token: op, label: "operator" }, 403);
  await check("POST", "/v1/sim/advance", { token: admin, body: { seconds: 60 } }, 200);
  await check("POST", "/v1/sim/advance", { token: admin, label: "zero", body: { seconds: 0 } }, 422);
  await check("POST", "/v1/sim/speed", { token: admin, body: { speed: 0 } }, 200);
  await check("POST", "/v1/sim/conditions", { token: admin, body: { region: "eu-west", packet_loss: 0.05, ramp_s: 60 } }, 200);
  await check("POST", "/v1/sim/faults", { token: admin, body: { type: "error", status: 503, count: 1, retry_after_s: 2, match: "/v1/regions" } }, 201);
  const unavailable = await check("GET", "/v1/regions", { label: "injected 503" }, 503);
  if (unavailable && unavailable.headers["retry-after"] !== "2") fail("injected 503 lacks Retry-After: 2");
  await check("POST", "/v1/sim/faults", { token: admin, body: { type: "stall_stream", duration_ms: 100 } }, 201);
  await check("GET", "/v1/sim/faults", { token: admin }, 200);
  await check("DELETE", "/v1/sim/faults", { token: admin }, 200);
  await check("POST", "/v1/sim/faults", { token: admin, label: "unknown type", body: { type: "gremlins" } }, 422);

  // The event stream: the documented framing, and every event's data against its schema.
  const eventSchemas = {
    worker: "Worker", region: "Region", operation: "Operation", audit: "AuditEntry",
  };
  const seen = new Set();
  await new Promise((resolve) => {
    // An id from before this server's life: the stream must open with a resync event.
    const url = new URL("/v1/events?last_event_id=1", base);
    const req = http.get(url, { headers: { Authorization: "Bearer view-secret" } }, (res) => {
      const entry = operations.find((o) => o.template === "/v1/events");
      entry.used = true;
      if (res.statusCode !== 200 || !String(res.headers["content-type"]).startsWith("text/event-stream"))
        fail(`GET /v1/events: ${res.statusCode} ${res.headers["content-type"]}`);
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        buffer += chunk;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const fields = Object.fromEntries(block.split("\n").filter((l) => !l.startsWith(":") && l.includes(": "))
            .map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]));
          if (!fields.event) continue;
          if (!fields.id) fail(`event ${fields.event} has no id`);
          const data = JSON.parse(fields.data);
          let schema = eventSchemas[fields.event] ? api.components.schemas[eventSchemas[fields.event]] : null;
          if (fields.event === "health") {
            schema = api.components.schemas.HealthBucket;
            if (typeof data.region !== "string") fail("health event without region");
          }
          if (schema) {
            const v = validatorFor(schema);
            if (!v(fields.event === "health" ? data.sample : data))
              fail(`${fields.event} event does not match its schema: ${ajv.errorsText(v.errors)}`);
          }
          seen.add(fields.event);
        }
      });
      setTimeout(() => { req.destroy(); resolve(); }, 1500);
    });
    req.on("error", () => resolve());
    // Make something happen while the stream is open: time passes, and someone acts.
    setTimeout(() => request("POST", "/v1/sim/advance", { token: admin, body: { seconds: 30 } }), 300);
    setTimeout(() => request("POST", "/v1/regions/us-west/provision", { token: op, headers: { "Idempotency-Key": "stream-1" },
      body: { count: 1, arch: "amd64", reason: "contract check: events" } }), 500);
  });
  for (const t of ["resync", "worker", "health", "operation", "audit"]) {
    if (seen.has(t)) pass(`event stream carried valid ${t} events`); else fail(`event stream carried no ${t} event`);
  }

  for (const o of operations) {
    if (!o.used) fail(`${o.method.toUpperCase()} ${o.template} is documented but was never exercised`);
  }
} finally {
  sim.kill("SIGTERM");
}

console.log(`${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
