// For tsc only (written by scripts/vendor-js.mjs): the types of the ts-mls that
// package.json pins, from node_modules; browsers load the JavaScript beside this file.
export * from "ts-mls";
