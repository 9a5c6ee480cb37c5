// The `k6/http` module: requests go to the VU's task, which sends them with scalelab's client.
const native = globalThis.__k6native;

function hasHeader(headers, name) {
  return Object.keys(headers || {}).some((k) => k.toLowerCase() === name);
}

function timeoutMs(value) {
  if (value === undefined || value === null) return 0;
  if (typeof value === "number") return value;
  const match = /^([0-9.]+)(ms|s|m|h)?$/.exec(String(value).trim());
  if (!match) throw new TypeError(`invalid timeout '${value}': use milliseconds or '10s'`);
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000 }[match[2] || "ms"];
  return Number(match[1]) * unit;
}

function select(value, selector) {
  // A subset of k6's GJSON selectors: dotted paths and array indexes (`a.b.0.c`, `#` for length).
  let current = value;
  for (const part of String(selector).split(".")) {
    if (current === undefined || current === null) return undefined;
    current = part === "#" && Array.isArray(current) ? current.length : current[part];
  }
  return current;
}

// The native request's answer, kept on its Response until a lazy field is first read.
const RAW = Symbol("raw");

// Makes `value` an own data property of `res` named `name` (a lazy field, once read or set).
function settle(res, name, value) {
  Object.defineProperty(res, name, { value, writable: true, enumerable: true, configurable: true });
  return value;
}

// A response as k6 gives it, built from the flat array the native request returns: status,
// error, error code, body, headers (name, value, …), the six timings in ms, then the request's
// method, headers and body. `headers`, `timings` and `request` are built when first read (most
// iterations read only the status), then stay own properties; `toJSON` includes them.
class Response {
  constructor(r, url) {
    this.status = r[0];
    this.error = r[1];
    this.error_code = r[2];
    this.body = r[3];
    this.url = url;
    this[RAW] = r;
  }

  get headers() {
    const headers = {};
    const flat = this[RAW][4];
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i];
      headers[name] = headers[name] === undefined ? flat[i + 1] : headers[name] + ", " + flat[i + 1];
    }
    return settle(this, "headers", headers);
  }

  set headers(value) {
    settle(this, "headers", value);
  }

  get timings() {
    const r = this[RAW];
    return settle(this, "timings", {
      blocked: r[5],
      connecting: r[6],
      tls_handshaking: r[7],
      sending: r[8],
      waiting: r[9],
      receiving: r[10],
      duration: r[8] + r[9] + r[10],
    });
  }

  set timings(value) {
    settle(this, "timings", value);
  }

  get request() {
    const r = this[RAW];
    return settle(this, "request", { method: r[11], url: this.url, headers: r[12], body: r[13] });
  }

  set request(value) {
    settle(this, "request", value);
  }

  json(selector) {
    if (typeof this.body !== "string") throw new Error("the response has no text body (responseType)");
    const value = JSON.parse(this.body);
    return selector === undefined ? value : select(value, selector);
  }

  toJSON() {
    return Object.assign({}, this, { headers: this.headers, timings: this.timings, request: this.request });
  }
}

const NONE = [];

// An object's pairs as name, value, name, value…
function flatten(object) {
  if (object === undefined || object === null) return NONE;
  const out = [];
  for (const key in object) out.push(String(key), String(object[key]));
  return out;
}

export function request(method, url, body, params) {
  return send(String(method).toUpperCase(), url, body, params);
}

// A request whose method is already upper case.
function send(method, url, body, params) {
  params = params || {};
  let headers = params.headers;
  let payload = body;
  if (payload !== null && payload !== undefined && typeof payload === "object") {
    // As k6: an object body is sent form-encoded.
    payload = Object.keys(payload)
      .map((k) => encodeURIComponent(k) + "=" + encodeURIComponent(payload[k]))
      .join("&");
    if (!hasHeader(headers, "content-type")) {
      headers = Object.assign({ "Content-Type": "application/x-www-form-urlencoded" }, headers);
    }
  }
  const given = params.tags;
  url = String(url);
  // The name tag first (the URL unless given), then the other tags and the group.
  const tags = [given && given.name !== undefined ? String(given.name) : url];
  if (given) for (const key in given) if (key !== "name") tags.push(key, String(given[key]));
  const groups = globalThis.__k6groups;
  if (groups.length > 0) tags.push("group", "::" + groups.join("::"));
  const r = native.request(
    method,
    url,
    payload === null || payload === undefined ? null : String(payload),
    flatten(headers),
    tags,
    timeoutMs(params.timeout),
    String(params.responseType || (globalThis.__k6discard ? "none" : "text")),
  );
  r.push(method, headers || {}, payload === undefined ? null : payload);
  return new Response(r, url);
}

export const get = (url, params) => send("GET", url, null, params);
export const head = (url, params) => send("HEAD", url, null, params);
export const post = (url, body, params) => send("POST", url, body, params);
export const put = (url, body, params) => send("PUT", url, body, params);
export const patch = (url, body, params) => send("PATCH", url, body, params);
export const del = (url, body, params) => send("DELETE", url, body, params);
export const options = (url, body, params) => send("OPTIONS", url, body, params);

function one(item) {
  if (typeof item === "string") return request("GET", item, null, undefined);
  if (Array.isArray(item)) return request(item[0], item[1], item[2], item[3]);
  return request(item.method || "GET", item.url, item.body, item.params);
}

// As k6's batch, with one difference: the requests go one after another on the VU's connection.
export function batch(requests) {
  if (Array.isArray(requests)) return requests.map(one);
  const out = {};
  for (const key of Object.keys(requests)) out[key] = one(requests[key]);
  return out;
}

export default { request, get, head, post, put, patch, del, options, batch };
