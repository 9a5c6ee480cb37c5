// The `k6/data` module: SharedArray. The generator runs once per run; every VU gets a frozen copy.
const native = globalThis.__k6native;

export class SharedArray {
  constructor(name, generator) {
    if (typeof generator !== "function") throw new TypeError("SharedArray needs a function");
    const cached = native.shared(String(name));
    let data;
    if (cached !== undefined) {
      data = JSON.parse(cached);
    } else {
      data = generator();
      if (!Array.isArray(data)) throw new TypeError("the SharedArray function must return an array");
      native.share(String(name), JSON.stringify(data));
    }
    return Object.freeze(data);
  }
}

export default { SharedArray };
