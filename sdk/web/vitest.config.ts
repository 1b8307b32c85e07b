import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One switchboard dev serves every file; browser tests are heavy on two cores.
    fileParallelism: false,
  },
});
