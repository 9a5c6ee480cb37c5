// k6 refuses a constant executor's duration (and an iteration executor's maxDuration) below 1s:
// exit 104 before any request.
import http from 'k6/http';

export const options = {
  scenarios: {
    brief: { executor: 'constant-vus', vus: 1, duration: '500ms' },
  },
};

export default function () {
  http.get(`${__ENV.BASE}/ping`);
}
