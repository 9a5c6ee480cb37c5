// A URL built from a variable left out (`undefined/missing`) is a failed request, as in k6
// ("unsupported protocol scheme"), counted in http_reqs and never sent anywhere.
import http from 'k6/http';
import { check } from 'k6';

export const options = { vus: 1, iterations: 2 };

export default function () {
  const ok = http.get(`${__ENV.BASE}/ping`);
  const unset = http.get(`${__ENV.NOT_GIVEN}/missing`);
  check(ok, { 'ok answered': (r) => r.status === 200 });
  check(unset, { 'unset failed': (r) => r.status === 0 && r.error_code === 1000 });
}
