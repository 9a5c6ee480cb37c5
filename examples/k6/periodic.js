// Periodic load: 10 VUs with bursts to 18.
// The classic FinOps demo k6 script, unchanged k6: each VU calls the CPU endpoint, checks for a 200
// and thinks 0-5 s. Run with k6 or scalelab:
//   scalelab run examples/k6/periodic.js                       (the embedded stress service)
//   scalelab run examples/k6/periodic.js -e BASE_URL=http://HOST:PORT
// (k6 itself needs BASE_URL: it has no embedded service to aim a relative URL at.)
import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  stages: [
    { duration: '1m', target: 10 },
    { duration: '30s', target: 18 },
    { duration: '1m', target: 10 },
    { duration: '30s', target: 18 },
    { duration: '1m', target: 10 },
  ],
  thresholds: {
    http_req_failed: ['rate<0.01'],
  },
};

const BASE_URL = __ENV.BASE_URL || '';

export default function () {
  const res = http.get(`${BASE_URL}/stress/cpu?percent=1&seconds=1`, { tags: { name: 'cpu' } });
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(Math.random() * 5);
}
