// A shared count cut by maxDuration: 2 VUs take 3 iterations of 400 ms each in 1 s; 14 of 20 are
// dropped.
import http from 'k6/http';

export const options = {
  scenarios: {
    shared: {
      executor: 'shared-iterations',
      vus: 2,
      iterations: 20,
      maxDuration: '1s',
    },
  },
};

export default function () {
  http.get(`${__ENV.BASE}/delay?ms=400`);
}
