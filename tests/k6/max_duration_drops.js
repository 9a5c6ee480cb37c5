// Iterations never started by maxDuration count as dropped_iterations: 2 VUs × 10 iterations of
// 400 ms in 1 s start 3 each; 14 are dropped.
import http from 'k6/http';

export const options = {
  scenarios: {
    each: {
      executor: 'per-vu-iterations',
      vus: 2,
      iterations: 10,
      maxDuration: '1s',
    },
  },
};

export default function () {
  http.get(`${__ENV.BASE}/delay?ms=400`);
}
