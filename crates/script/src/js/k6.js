// The `k6` module: check, sleep, group, fail, randomSeed.
const native = globalThis.__k6native;

export function check(value, sets, tags) {
  let all = true;
  for (const name of Object.keys(sets || {})) {
    const test = sets[name];
    const passed = typeof test === "function" ? !!test(value) : !!test;
    native.check(name, passed);
    all = all && passed;
  }
  return all;
}

export function sleep(seconds) {
  native.sleep(Number(seconds));
}

export function group(name, fn) {
  const groups = globalThis.__k6groups;
  groups.push(String(name));
  try {
    return fn();
  } finally {
    groups.pop();
  }
}

export function fail(message) {
  throw new Error(message === undefined ? "fail() called" : String(message));
}

// mulberry32: a small seeded generator, so `randomSeed(n)` makes Math.random() repeatable.
export function randomSeed(seed) {
  let state = Number(seed) >>> 0;
  Math.random = function () {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export default { check, sleep, group, fail, randomSeed };
