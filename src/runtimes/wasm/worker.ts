/** Worker thread of the WasmRuntime. PLACEHOLDER. */
export {};
