// Arrivals every 250 ms for 1.1 s (at 0, 0.25, 0.5, 0.75 and 1.0 s), each iteration 1 s, one VU
// made before the start and room for 3: an arrival that finds every VU busy is dropped while k6 makes a VU for
// later ones — 3 iterations, 2 dropped.
import http from 'k6/http';

export const options = {
  scenarios: {
    short: {
      executor: 'constant-arrival-rate',
      rate: 4,
      timeUnit: '1s',
      duration: '1100ms',
      preAllocatedVUs: 1,
      maxVUs: 3,
    },
  },
};

export default function () {
  http.get(`${__ENV.BASE}/delay?ms=1000`);
}
