// The console's front end: a single page built to dist/, which regfeed serves. Nothing comes from a CDN.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, target: "es2022" },
});
