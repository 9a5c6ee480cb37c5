// Custom metrics and their thresholds: a counter's sum, a rate, a trend.
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';

const calls = new Counter('calls');
const even = new Rate('even');
const sizes = new Trend('sizes');

export const options = {
  vus: 1,
  iterations: 8,
  thresholds: {
    calls: ['count==16'],
    even: ['rate>0.4', 'rate<0.6'],
    sizes: ['max<100'],
  },
};

export default function () {
  const r = http.get(`${__ENV.BASE}/json`);
  calls.add(2);
  even.add(__ITER % 2 === 0);
  sizes.add(r.body.length);
}
