// Several requests per iteration, methods and bodies: the server counts each.
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  scenarios: {
    mix: { executor: 'shared-iterations', vus: 3, iterations: 12 },
  },
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  const listed = http.get(`${__ENV.BASE}/items`);
  check(listed, { 'listed': (r) => r.status === 200 });
  const created = http.post(`${__ENV.BASE}/items`, JSON.stringify({ n: 1 }), {
    headers: { 'Content-Type': 'application/json' },
  });
  check(created, { 'created': (r) => r.status === 200 });
  http.del(`${__ENV.BASE}/items/1`);
}
