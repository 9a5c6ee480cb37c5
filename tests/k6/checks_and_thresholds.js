// Half the checks fail; thresholds on failures and checks fail: exit 99.
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  vus: 2,
  iterations: 10,
  thresholds: {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.9'],
    http_reqs: ['count==20'],
    'http_req_duration{name:ok}': ['p(95)<5000'],
  },
};

export default function () {
  const ok = http.get(`${__ENV.BASE}/ok`, { tags: { name: 'ok' } });
  const missing = http.get(`${__ENV.BASE}/status/404`);
  check(ok, { 'ok is 200': (r) => r.status === 200 });
  check(missing, { 'missing is 200': (r) => r.status === 200 });
}
