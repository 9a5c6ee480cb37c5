// The `k6/metrics` module: Trend, Counter, Rate, Gauge. Created in init code (the name is checked
// there, as k6 does); `add` sends the value to the VU's task, which records it in the run's results.
const native = globalThis.__k6native;

class Metric {
  constructor(kind, name) {
    this.name = String(name);
    native.metric(this.name, kind);
    this.kind = kind;
  }

  // `tags` select the sub-metrics thresholds name (`my_trend{kind:x}`).
  add(value, tags) {
    let number;
    if (this.kind === "rate") {
      number = value ? 1 : 0;
    } else {
      number = Number(value);
      if (!Number.isFinite(number)) {
        throw new TypeError(`${this.name}.add(${value}): not a finite number`);
      }
      if (this.kind === "trend" && number < 0) {
        throw new RangeError(`${this.name}.add(${value}): trend values must not be negative here`);
      }
    }
    const pairs = tags ? Object.keys(tags).map((k) => [k, String(tags[k])]) : [];
    native.add(this.name, this.kind, number, JSON.stringify(pairs));
  }
}

export class Trend extends Metric {
  constructor(name, isTime) {
    super("trend", name);
    this.isTime = !!isTime;
  }
}

export class Counter extends Metric {
  constructor(name) {
    super("counter", name);
  }
}

export class Rate extends Metric {
  constructor(name) {
    super("rate", name);
  }
}

export class Gauge extends Metric {
  constructor(name) {
    super("gauge", name);
  }
}

export default { Trend, Counter, Rate, Gauge };
