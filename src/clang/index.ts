// `kafu clang` / `kafu clang++` as a library (the CLI in src/cli/clang.ts is a thin layer over it).
export { compile, clangHelp, loadInstrument, type CompileOptions, type InstrumentFn } from './compile.js';
export {
  resolveToolchain,
  loadBundled,
  bundledVersion,
  installedPackageVersion,
  packageIncludeDir,
  INSTALL_BUNDLED_HINT,
  type ToolchainChoice,
  type ResolvedToolchain,
} from './toolchain.js';
export { parseClangArgs, splitKafuFlags, linkOutput, KAFU_FLAGS_HELP, type ParsedArgs, type KafuFlags } from './args.js';
export { ensureBundledLoaded } from './bundled.js';
export { customSectionNames, isWasm as isWasmBinary } from '../core/wasm-sections.js';
export { importNames } from './module-names.js';
