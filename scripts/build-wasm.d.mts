// Types of scripts/build-wasm.mjs for the TypeScript that imports it (test/engine/wasm/build.test.ts).
export declare const SOURCE: string
export declare const GENERATED: string
export interface KernelBinaries {
  simd: Uint8Array
  relaxed: Uint8Array
}
export declare function compileKernels(): Promise<KernelBinaries>
export declare function generatedModule(bins: KernelBinaries): string
