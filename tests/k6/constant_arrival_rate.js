// 10/s for 2.95 s: 30 iterations. (For a whole number of periods, 3 s, k6 usually starts one more
// at t = duration, as scalelab does; it is a race in k6's executor, so the corpus avoids it.)
import http from 'k6/http';

export const options = {
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate',
      rate: 10,
      timeUnit: '1s',
      duration: '2950ms',
      preAllocatedVUs: 5,
      maxVUs: 5,
    },
  },
};

export default function () {
  http.get(`${__ENV.BASE}/ping`);
}
