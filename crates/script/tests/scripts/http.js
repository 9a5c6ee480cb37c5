// Every k6/http function and the response object, checked from inside the script.
import http from "k6/http";
import { get, post, batch } from "k6/http";
import { check, group } from "k6";

export const options = {
  scenarios: { api: { executor: "per-vu-iterations", vus: 1, iterations: 2 } },
  thresholds: { "http_req_duration{kind:json}": ["p(95)<5000"], checks: ["rate==1"] },
};

const BASE = __ENV.BASE;

export default function () {
  const res = get(`${BASE}/json`, { tags: { name: "json", kind: "json" }, headers: { "X-Custom": "c" } });
  check(res, {
    "get status": (r) => r.status === 200,
    "get body": (r) => r.body.includes("scalelab"),
    "json()": (r) => r.json().name === "scalelab",
    "json(selector)": (r) => r.json("a.b.1") === 20 && r.json("a.b.#") === 3,
    "response headers": (r) => r.headers["X-Test"] === "yes",
    // The VU's first request opens its connection; waiting is the server's time to its first byte.
    "timings": (r) => r.timings.duration > 0 && r.timings.waiting > 0 && (__ITER > 0 || r.timings.connecting > 0),
    "no error": (r) => r.error === "" && r.error_code === 0,
    "res.request": (r) => r.request.method === "GET" && r.request.url === `${BASE}/json` && r.request.headers["X-Custom"] === "c",
    "JSON.stringify(res)": (r) => {
      const copy = JSON.parse(JSON.stringify(r));
      return copy.status === 200 && copy.headers["X-Test"] === "yes" && copy.timings.duration > 0 && copy.request.method === "GET";
    },
  });
  // Fields a script sets are kept (lazy ones included).
  const late = get(`${BASE}/json`, { tags: { name: "json" } });
  late.headers = { replaced: true };
  late.timings = 1;
  check(late, { "fields can be set": (r) => r.headers.replaced === true && r.timings === 1 && Object.keys(r).includes("headers") });

  const echo = (r) => r.json();
  const sent = post(`${BASE}/echo`, "raw text", { headers: { "Content-Type": "text/plain", "X-Custom": "hdr" }, tags: { name: "echo" } });
  check(sent, {
    "post body": (r) => echo(r).method === "POST" && echo(r).body === "raw text",
    "request headers": (r) => echo(r).custom === "hdr" && echo(r).content_type === "text/plain",
  });
  const form = http.put(`${BASE}/echo`, { a: "1", b: "x y" }, { tags: { name: "echo" } });
  check(form, {
    "object body is form-encoded": (r) =>
      echo(r).method === "PUT" && echo(r).body === "a=1&b=x%20y" &&
      echo(r).content_type === "application/x-www-form-urlencoded",
  });
  check(http.patch(`${BASE}/echo`, JSON.stringify({ p: 1 }), { tags: { name: "echo" } }), {
    "patch": (r) => echo(r).method === "PATCH" && echo(r).body === '{"p":1}',
  });
  check(http.del(`${BASE}/echo`, null, { tags: { name: "echo" } }), { "del": (r) => echo(r).method === "DELETE" });
  check(http.head(`${BASE}/json`, { tags: { name: "json" } }), { "head": (r) => r.status === 200 && r.body === "" });
  check(http.options(`${BASE}/echo`, null, { tags: { name: "echo" } }), { "options": (r) => echo(r).method === "OPTIONS" });
  check(http.request("POST", `${BASE}/echo`, "via request", { tags: { name: "echo" } }), {
    "request()": (r) => echo(r).body === "via request",
  });

  const all = batch([
    `${BASE}/status/201`,
    ["GET", `${BASE}/status/404`, null, { tags: { name: "status" } }],
    { method: "POST", url: `${BASE}/echo`, body: "in batch", params: { tags: { name: "echo" } } },
  ]);
  check(all, {
    "batch array": (b) => b[0].status === 201 && b[1].status === 404 && echo(b[2]).body === "in batch",
    "4xx error_code": (b) => b[1].error_code === 1404,
  });
  const named = batch({ one: `${BASE}/status/204` });
  check(named, { "batch object": (b) => b.one.status === 204 });

  check(get(`${BASE}/json`, { responseType: "binary", tags: { name: "json" } }), {
    "binary body": (r) => r.body instanceof ArrayBuffer && r.body.byteLength > 10,
  });
  check(get(`${BASE}/json`, { responseType: "none", tags: { name: "json" } }), { "no body": (r) => r.body === null });
  check(get(`${BASE}/slow`, { timeout: "200ms" }), {
    "timeout": (r) => r.status === 0 && r.error_code === 1050 && r.error === "request_timeout",
  });
  check(get(__ENV.REFUSED), { "refused": (r) => r.status === 0 && r.error_code === 1212 });
  check(get("notaurl://x"), { "unsupported scheme": (r) => r.status === 0 && r.error_code === 1000 });
  check(get("http://[::1"), { "invalid URL": (r) => r.status === 0 && r.error_code === 1020 });

  group("outer", () => {
    group("inner", () => {
      get(`${BASE}/status/200`, { tags: { name: "grouped" } });
    });
  });
}
