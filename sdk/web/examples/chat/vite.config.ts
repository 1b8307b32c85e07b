import { defineConfig } from "vite";

// `npm run demo` serves this page on http://localhost:5173 (an origin the relay allows by
// default), and stops with an error if that port is taken rather than moving to one the
// relay would refuse; `npm run demo:build` writes it to dist/.
export default defineConfig({
  server: { port: 5173, strictPort: true },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
