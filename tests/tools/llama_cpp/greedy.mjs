#!/usr/bin/env node
// Loads a GGUF with real llama.cpp (node-llama-cpp 3.21.1's CPU prebuilt, installed by
// scripts/install-node-tools.sh) and prints the greedy continuation of prompt token ids:
//
//   node tests/tools/llama_cpp/greedy.mjs --model m.gguf --prompt 1,2,3 --n 16 [--lora adapter.gguf]
//        [--threads 1]
//   -> {"tokens":[...]}
//
// Token ids go in and out unchanged, so the result compares directly with Hugging Face's
// greedy decoding. --lora applies a GGUF LoRA adapter at scale 1 (llama.cpp's default).
// Errors go to stderr with a non-zero exit code.
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const prefix = process.env.TUNE_NODE_PREFIX ?? path.join(root, ".cache/node");
const entry = path.join(prefix, "node_modules/node-llama-cpp/dist/index.js");

const { values } = parseArgs({
  options: {
    model: { type: "string" },
    prompt: { type: "string" },
    n: { type: "string", default: "16" },
    lora: { type: "string" },
    // One thread by default: llama.cpp's worker threads spin while they wait, and on a shared
    // 2-core machine two of them made 16 tokens of a tiny model take 23 s instead of 23 ms.
    threads: { type: "string", default: "1" },
  },
});
if (!values.model || !values.prompt) {
  console.error(
    "usage: greedy.mjs --model m.gguf --prompt 1,2,3 [--n 16] [--lora a.gguf] [--threads 1]",
  );
  process.exit(2);
}
const prompt = values.prompt.split(",").map((s) => Number.parseInt(s, 10));
const n = Number.parseInt(values.n, 10);

const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
// build: "never" -> the prebuilt binary or an error, never a silent source build.
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: values.model });
const context = await model.createContext({
  contextSize: Math.max(64, prompt.length + n),
  sequences: 1,
  threads: Number.parseInt(values.threads, 10),
  ...(values.lora ? { lora: { adapters: [{ filePath: values.lora }] } } : {}),
});
const sequence = context.getSequence();
const tokens = [];
// temperature 0 is greedy (argmax) sampling in node-llama-cpp.
for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
  tokens.push(token);
  if (tokens.length >= n) break;
}
console.log(JSON.stringify({ tokens }));
await context.dispose();
await model.dispose();
await llama.dispose();
