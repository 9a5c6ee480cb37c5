// A scenario's tags reach every request's metrics; a request's own tag of the same name wins.
import http from 'k6/http';

export const options = {
  scenarios: {
    tagged: {
      executor: 'per-vu-iterations',
      vus: 1,
      iterations: 2,
      tags: { kind: 'api' },
    },
  },
  thresholds: {
    'http_reqs{kind:api}': ['count==2'],
    'http_reqs{kind:web}': ['count==2'],
    'http_req_duration{kind:api}': ['max<5000'],
  },
};

export default function () {
  http.get(`${__ENV.BASE}/ping`);
  http.get(`${__ENV.BASE}/page`, { tags: { kind: 'web' } });
}
