// The `k6/http` module: requests go to the VU's task, which sends them with scalelab's client.
const native = globalThis.__k6native;

function hasHeader(headers, name) {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
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

export function request(method, url, body, params) {
  params = params || {};
  const headers = Object.assign({}, params.headers || {});
  let payload = body;
  if (payload !== null && payload !== undefined && typeof payload === "object") {
    // As k6: an object body is sent form-encoded.
    payload = Object.keys(payload)
      .map((k) => encodeURIComponent(k) + "=" + encodeURIComponent(payload[k]))
      .join("&");
    if (!hasHeader(headers, "content-type")) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
    }
  }
  const tags = {};
  for (const [k, v] of Object.entries(params.tags || {})) tags[k] = String(v);
  const groups = globalThis.__k6groups;
  if (groups.length > 0) tags.group = "::" + groups.join("::");
  const name = tags.name !== undefined ? tags.name : String(url);
  delete tags.name;
  const spec = {
    method: String(method).toUpperCase(),
    url: String(url),
    headers: Object.entries(headers).map(([k, v]) => [String(k), String(v)]),
    tags: Object.entries(tags),
    name,
    timeout_ms: timeoutMs(params.timeout),
    response_type: params.responseType || "text",
  };
  const res = native.request(
    JSON.stringify(spec),
    payload === null || payload === undefined ? null : String(payload),
  );
  res.url = spec.url;
  res.request = { method: spec.method, url: spec.url, headers, body: payload === undefined ? null : payload };
  res.json = function (selector) {
    if (typeof this.body !== "string") throw new Error("the response has no text body (responseType)");
    const value = JSON.parse(this.body);
    return selector === undefined ? value : select(value, selector);
  };
  return res;
}

export const get = (url, params) => request("GET", url, null, params);
export const head = (url, params) => request("HEAD", url, null, params);
export const post = (url, body, params) => request("POST", url, body, params);
export const put = (url, body, params) => request("PUT", url, body, params);
export const patch = (url, body, params) => request("PATCH", url, body, params);
export const del = (url, body, params) => request("DELETE", url, body, params);
export const options = (url, body, params) => request("OPTIONS", url, body, params);

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
