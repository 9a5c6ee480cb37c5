// discardResponseBodies: responses have no body (null) unless a request asks for one.
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  vus: 1,
  iterations: 3,
  discardResponseBodies: true,
  thresholds: { checks: ['rate==1'] },
};

export default function () {
  const discarded = http.get(`${__ENV.BASE}/json`);
  const kept = http.get(`${__ENV.BASE}/json`, { responseType: 'text' });
  check(discarded, { 'no body': (r) => r.status === 200 && r.body === null });
  check(kept, { 'body kept': (r) => r.body.includes('"ok":true') });
}
