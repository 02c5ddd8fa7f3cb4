#!/usr/bin/env node
// Tokenizes texts with real llama.cpp (node-llama-cpp 3.21.1, as tests/tools/llama_cpp/greedy.mjs)
// from a GGUF's tokenizer.ggml.* metadata, for the export interop test:
//
//   node tests/export/llama_cpp_tokenize.mjs --model m.gguf --texts texts.json
//   -> {"tokens":[[...], ...], "fim":[prefix, suffix, middle]}
//
// Texts are tokenized without special-token parsing and without BOS.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const prefix = process.env.TUNE_NODE_PREFIX ?? path.join(root, ".cache/node");
const entry = path.join(prefix, "node_modules/node-llama-cpp/dist/index.js");
const { values } = parseArgs({ options: { model: { type: "string" }, texts: { type: "string" } } });
if (!values.model || !values.texts) {
  console.error("usage: llama_cpp_tokenize.mjs --model m.gguf --texts texts.json");
  process.exit(2);
}
const texts = JSON.parse(fs.readFileSync(values.texts, "utf8"));
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: values.model });
const tokens = texts.map((t) => Array.from(model.tokenize(t, false)));
const { infill } = model.tokens;
console.log(JSON.stringify({ tokens, fim: [infill.prefix, infill.suffix, infill.middle] }));
await model.dispose();
await llama.dispose();
