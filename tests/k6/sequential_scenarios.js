// Two scenarios one after another: k6 holds each scenario's planned VUs from its start to its end
// plus gracefulStop (30 s by default), so they overlap in its plan and vus_max is 2 + 2 = 4.
import http from 'k6/http';

export const options = {
  scenarios: {
    first: { executor: 'per-vu-iterations', vus: 2, iterations: 2, maxDuration: '1s' },
    second: { executor: 'per-vu-iterations', vus: 2, iterations: 2, startTime: '1500ms' },
  },
};

export default function () {
  http.get(`${__ENV.BASE}/ping`);
}
