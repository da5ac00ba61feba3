/**
 * Start-up shortcut for the render CLI. Importing `@pulumi/pulumi` loads the TypeScript compiler
 * (closure serialization) and npm's Arborist (`computeCodePaths`) eagerly, although a render under
 * mocks uses them rarely (a dynamic provider) or never: about 0.3 s of CPU, a sixth of a render.
 * This module puts stand-ins for those two modules in the require cache that load the real module
 * on first use, so nothing changes in behaviour, only when the cost is paid.
 *
 * Import it before anything that imports `@pulumi/pulumi`. If the SDK's layout ever changes, the
 * module names no longer resolve and this does nothing.
 */
import * as fs from "node:fs";
import Module from "node:module";
import * as path from "node:path";

/** Replaces the cache entry of `file` with a proxy that requires the real module on first use. */
export function deferModule(file: string): void {
  if (require.cache[file]) return; // already loaded: nothing to save
  let real: unknown;
  const load = (): object => {
    if (real === undefined) {
      delete require.cache[file];
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      real = require(file);
      stub.exports = real;
    }
    return real as object;
  };
  // A function target, so a module that exports a class can still be called or constructed.
  const target = function deferred() {} as unknown as object;
  const proxy = new Proxy(target, {
    // Interop helpers (`__importStar`) take an `__esModule` object as is instead of enumerating
    // its keys, which would load the module straight away.
    get: (_t, key) => (key === "__esModule" ? true : Reflect.get(load(), key)),
    has: (_t, key) => Reflect.has(load(), key),
    apply: (_t, self, args) => Reflect.apply(load() as (...a: unknown[]) => unknown, self, args),
    construct: (_t, args) => Reflect.construct(load() as new (...a: unknown[]) => object, args),
  });
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  stub.exports = proxy;
  require.cache[file] = stub;
}

/** Defers the SDK's rarely used heavy dependencies; see the module comment. */
export function deferSdkExtras(): void {
  let sdkDir: string;
  try {
    sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  } catch {
    return;
  }
  const shim = path.join(sdkDir, "typescript-shim.js");
  if (fs.existsSync(shim)) deferModule(shim);
  try {
    deferModule(require.resolve("@npmcli/arborist", { paths: [sdkDir] }));
  } catch {
    // Not a dependency of this SDK version: leave loading as it is.
  }
}

deferSdkExtras();
