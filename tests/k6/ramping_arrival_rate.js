// 10/s for 2 s, 10 → 20/s over 1 s, 20 → 0/s over 1 s: 20 + 15 + 10 = 45 iterations, the last at
// 3.68 s, well before the end (an arrival due in a run's last milliseconds is a race in k6).
import http from 'k6/http';

export const options = {
  scenarios: {
    ramp: {
      executor: 'ramping-arrival-rate',
      startRate: 10,
      timeUnit: '1s',
      preAllocatedVUs: 5,
      maxVUs: 5,
      stages: [
        { target: 10, duration: '2s' },
        { target: 20, duration: '1s' },
        { target: 0, duration: '1s' },
      ],
    },
  },
};

export default function () {
  http.get(`${__ENV.BASE}/ping`);
}
