// Generates the synthetic tokenizers and their reference cases in this folder: Llama-3, GPT-2,
// StarCoder and DeepSeek-Coder pre-tokenizers over a 3,000-merge subset of the Qwen3 vocabulary,
// and a CodeGemma-style SentencePiece tokenizer.json (no dummy prefix, user-defined whitespace
// and FIM tokens) over the llama2 vocabulary; encoded by @huggingface/tokenizers (which
// reproduces the Rust `tokenizers` ids exactly).
//
//   cd /tmp && npm install @huggingface/tokenizers
//   NODE_PATH=/tmp/node_modules node tests/tokenizer/testdata/make_synthetic.mjs \
//       ../shared/fixtures/hf-reference/tokenizers tests/tokenizer/testdata
import fs from "fs";
import { createRequire } from "module";

const require = createRequire(process.env.NODE_PATH + "/");
const { Tokenizer } = require("@huggingface/tokenizers");

const [fixtures, out] = process.argv.slice(2);
const qwen = JSON.parse(fs.readFileSync(`${fixtures}/qwen3/tokenizer.json`));
const kMerges = 3000;

// Base alphabet (the 256 single-character tokens) plus the results of the first kMerges merges.
const vocab = {};
const byId = Object.entries(qwen.model.vocab).sort((a, b) => a[1] - b[1]);
for (const [token] of byId) if ([...token].length === 1) vocab[token] = Object.keys(vocab).length;
const merges = qwen.model.merges.slice(0, kMerges);
for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = Object.keys(vocab).length;

const kLlama3Regex =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const byteLevel = (useRegex) =>
  ({ type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: useRegex });

const split = (regex) => ({ type: "Split", pattern: { Regex: regex }, behavior: "Isolated",
                            invert: false });

const families = {
  llama3: {
    pre: { type: "Sequence", pretokenizers: [
      { type: "Split", pattern: { Regex: kLlama3Regex }, behavior: "Isolated", invert: false },
      byteLevel(false)] },
    ignoreMerges: true,
    specials: ["<|begin_of_text|>", "<|end_of_text|>"],
    config: { bos_token: "<|begin_of_text|>", eos_token: "<|end_of_text|>",
              clean_up_tokenization_spaces: false },
    bosTemplate: "<|begin_of_text|>",
  },
  gpt2: {
    pre: byteLevel(true),
    specials: ["<|endoftext|>"],
    config: { bos_token: "<|endoftext|>", eos_token: "<|endoftext|>",
              clean_up_tokenization_spaces: false },
  },
  "deepseek-coder": {
    pre: { type: "Sequence", pretokenizers: [
      split("[\r\n]"), split("\\s?\\p{L}+"), split("\\s?\\p{P}+"),
      split("[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+"), split("\\p{N}"), byteLevel(false)] },
    specials: ["<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>", "<\uFF5Cend\u2581of\u2581sentence\uFF5C>",
               "<\uFF5Cfim\u2581begin\uFF5C>", "<\uFF5Cfim\u2581hole\uFF5C>", "<\uFF5Cfim\u2581end\uFF5C>"],
    config: { bos_token: "<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>",
              eos_token: "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", add_bos_token: true,
              clean_up_tokenization_spaces: false },
  },
  starcoder: {
    pre: { type: "Sequence", pretokenizers: [
      { type: "Digits", individual_digits: true }, byteLevel(true)] },
    specials: ["<|endoftext|>", "<fim_prefix>", "<fim_middle>", "<fim_suffix>", "<fim_pad>",
               "<repo_name>", "<file_sep>"],
    config: { bos_token: "<|endoftext|>", eos_token: "<|endoftext|>",
              clean_up_tokenization_spaces: false },
  },
};

const extraTexts = [
  "12345678901", "x=1234567;", "v1.2.3-rc4", "\u0663\u0664\u0665 and \u2460\u2461\u2462 and \u216B\u2163",
  "I'M HERE, you'RE 'S 's's 't", "hello\n\n  world  \n\t x", "a  \n b", "   ", "\u00a0x\u2003y",
  "tabs\t\t\tend\t", "line1\r\nline2\r\n\r\n", "caf\u00e9 na\u00efve r\u00e9sum\u00e9",
  "\u{1D518}\u{1D52B}\u{1D526}", "\uFF21\uFF22\uFF23\uFF11\uFF12\uFF13",
  "__init__(self, *args, **kwargs)", "x+=1;y-=2//3", "don\u2019t", " 'll  'd",
  "<fim_prefix>def f(<fim_suffix>)\n<fim_middle>", "<|endoftext|><|endoftext|>x",
  "<repo_name>tune<file_sep>a.py\nprint(1)", "<|begin_of_text|>Hello<|end_of_text|>",
  "\u4F60\u597D\uFF0C\u4E16\u754C\uFF01 \uD55C\uAD6D\uC5B4 \uD14D\uC2A4\uD2B8 \u0800\u0801",
  "a$+<=>^`|~b  !!x ...y\t;z", "x == y && z != w  \n\n  ", "\u3001\u3002\u201C\u201D\u2026",
  "<\uFF5Cfim\u2581begin\uFF5C>def f():<\uFF5Cfim\u2581hole\uFF5C>\n<\uFF5Cfim\u2581end\uFF5C>",
];
const texts = [];
for (const m of ["qwen3", "llama2"]) {
  for (const c of JSON.parse(fs.readFileSync(`${fixtures}/${m}/cases.json`)).cases) {
    if (!texts.includes(c.text)) texts.push(c.text);
  }
}
texts.push(...extraTexts);

for (const [name, f] of Object.entries(families)) {
  const v = { ...vocab };
  const added = f.specials.map((content) => {
    const id = Object.keys(v).length;
    v[content] = id;
    return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false,
             special: true };
  });
  const json = {
    version: "1.0", truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: f.pre,
    post_processor: f.bosTemplate
      ? { type: "TemplateProcessing",
          single: [{ SpecialToken: { id: f.bosTemplate, type_id: 0 } },
                   { Sequence: { id: "A", type_id: 0 } }],
          pair: [], special_tokens: { [f.bosTemplate]: { id: f.bosTemplate,
                                                          ids: [v[f.bosTemplate]],
                                                          tokens: [f.bosTemplate] } } }
      : null,
    decoder: byteLevel(true),
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "",
             end_of_word_suffix: "", fuse_unk: false, byte_fallback: false,
             ignore_merges: !!f.ignoreMerges, vocab: v, merges },
  };
  const tok = new Tokenizer(json, f.config);
  // The JS Digits pre-tokenizer isolates only ASCII digits (\d); Rust's isolates every
  // char::is_numeric (\p{N}), as tune does. Texts where that differs are left out for StarCoder.
  const usable = name === "starcoder" ? texts.filter((t) => !/[^\x00-\x7F]/u.test(t.replace(/[^\p{N}]/gu, ""))) : texts;
  const cases = usable.map((text) => {
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    const decoded = ids.length ? tok.decode(ids, { skip_special_tokens: false }) : "";
    return { text, ids, decoded };
  });
  fs.mkdirSync(`${out}/${name}`, { recursive: true });
  fs.writeFileSync(`${out}/${name}/tokenizer.json`, JSON.stringify(json));
  fs.writeFileSync(`${out}/${name}/tokenizer_config.json`, JSON.stringify(f.config));
  fs.writeFileSync(`${out}/${name}/cases.json`, JSON.stringify({ cases }));
  console.log(name, Object.keys(v).length, "tokens,", cases.length, "cases");
}

// CodeGemma style: Replace(" " -> "▁") without a dummy prefix, a no-op Split on " ", byte
// fallback, whitespace runs and FIM tokens as non-special added tokens.
{
  const llama = JSON.parse(fs.readFileSync(`${fixtures}/llama2/tokenizer.json`));
  // Single characters, byte and special tokens, and the first 8,000 merges whose parts are in
  // that set (closed under merging, as Rust `tokenizers` requires), re-numbered in the original
  // order; kept under 1 MB.
  const kSpmMerges = 8000;
  const base = (token) => [...token].length === 1 || /^<0x[0-9A-F]{2}>$/.test(token) ||
                          llama.added_tokens.some((a) => a.content === token);
  const have = new Set(Object.keys(llama.model.vocab).filter(base));
  const chosen = new Set();
  for (let changed = true; changed;) {
    changed = false;
    for (const m of llama.model.merges.slice(0, kSpmMerges)) {
      const [a, b] = m.split(" ");
      if (!chosen.has(m) && have.has(a) && have.has(b) && (a + b) in llama.model.vocab) {
        chosen.add(m);
        have.add(a + b);
        changed = true;
      }
    }
  }
  const spmMerges = llama.model.merges.slice(0, kSpmMerges).filter((m) => chosen.has(m));
  const vocab = {};
  for (const [token] of Object.entries(llama.model.vocab).sort((a, b) => a[1] - b[1])) {
    if (have.has(token)) vocab[token] = Object.keys(vocab).length;
  }
  const added = llama.added_tokens.map((a) => ({ ...a, id: vocab[a.content] }));
  for (const content of ["\n\n", "\n\n\n", "\t\t", "<|fim_prefix|>", "<|fim_middle|>",
                         "<|fim_suffix|>", "<|file_separator|>"]) {
    const id = Object.keys(vocab).length;
    vocab[content] = id;
    added.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false,
                 special: false });
  }
  const json = {
    ...llama, added_tokens: added,
    normalizer: { type: "Replace", pattern: { String: " " }, content: "\u2581" },
    pre_tokenizer: { type: "Split", pattern: { String: " " }, behavior: "MergedWithPrevious",
                     invert: false },
    post_processor: null,
    decoder: { type: "Sequence", decoders: [
      { type: "Replace", pattern: { String: "\u2581" }, content: " " },
      { type: "ByteFallback" }, { type: "Fuse" }] },
    model: { ...llama.model, vocab, merges: spmMerges },
  };
  const config = { bos_token: "<s>", eos_token: "</s>", add_bos_token: true,
                   clean_up_tokenization_spaces: false };
  const tok = new Tokenizer(json, config);
  const cases = texts.map((text) => {
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    const decoded = ids.length ? tok.decode(ids, { skip_special_tokens: false }) : "";
    return { text, ids, decoded };
  });
  fs.mkdirSync(`${out}/gemma`, { recursive: true });
  fs.writeFileSync(`${out}/gemma/tokenizer.json`, JSON.stringify(json));
  fs.writeFileSync(`${out}/gemma/tokenizer_config.json`, JSON.stringify(config));
  fs.writeFileSync(`${out}/gemma/cases.json`, JSON.stringify({ cases }));
  console.log("gemma", Object.keys(vocab).length, "tokens,", cases.length, "cases");
}

// random/{qwen3,llama2}.json: 1,000 random texts each (fragments chosen for the regexes, NFC,
// byte fallback and special tokens, mixed with random code points), encoded with the fixture
// tokenizers themselves.
{
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const frags = [" ", "  ", "\n", "\r\n", "\t", "'s", "'T", "'ll", "123", "4567", "x", "Foo", "_bar",
    "\u00e9", "e\u0301", "\u4e2d\u6587", "\ud55c\uad6d", "\u{1F600}", "\u00a0", "\u2003", "\u0663",
    "\u2460", "\u216B", "{", "}", "();", "//", "#", "==", "!=", "->", "<|fim_prefix|>",
    "<|endoftext|>", "<s>", "\u2581", "\ufb01", "\u00c5", "A\u030a", "\u1100\u1161", "\u00df",
    "\u0130", "\u0345", "a\u0328\u0301", "\u0f73", "\ufb2c"];
  fs.mkdirSync(`${out}/random`, { recursive: true });
  for (const name of ["qwen3", "llama2"]) {
    const dir = `${fixtures}/${name}`;
    const tok = new Tokenizer(JSON.parse(fs.readFileSync(`${dir}/tokenizer.json`)),
                              JSON.parse(fs.readFileSync(`${dir}/tokenizer_config.json`)));
    const cases = [];
    for (let i = 0; i < 1000; i++) {
      let text = "";
      for (let k = Math.floor(rnd() * 30); k > 0; k--) {
        text += rnd() < 0.2
          ? String.fromCodePoint(Math.floor(rnd() < 0.5 ? rnd() * 0x3000 : rnd() * 0x2FFFF))
          : frags[Math.floor(rnd() * frags.length)];
      }
      text = text.replace(/[\ud800-\udfff]/g, "");  // lone surrogates have no UTF-8 form
      const ids = tok.encode(text, { add_special_tokens: false }).ids;
      const decoded = ids.length ? tok.decode(ids, { skip_special_tokens: false }) : "";
      cases.push({ text, ids, decoded });
    }
    fs.writeFileSync(`${out}/random/${name}.json`, JSON.stringify({ cases }));
    console.log(`random/${name}`, cases.length, "cases");
  }
}
