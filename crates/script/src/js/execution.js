// The `k6/execution` module: the commonly used fields.
const native = globalThis.__k6native;

export default {
  get vu() {
    return {
      idInTest: __VU,
      idInInstance: __VU,
      iterationInInstance: __ITER,
      iterationInScenario: __ITER,
    };
  },
  get scenario() {
    return { name: native.scenario(), executor: native.executor(), iterationInInstance: __ITER };
  },
  test: {
    abort(reason) {
      native.abort(reason === undefined ? "test.abort() called" : String(reason));
      throw new Error("test aborted: " + (reason === undefined ? "test.abort() called" : String(reason)));
    },
  },
};
