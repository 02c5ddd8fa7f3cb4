// tune_fuzz_seeds OUT_DIR: writes the generated seed corpora OUT_DIR/<target>/ with tune's own
// writers (valid files of every format, so the fuzzers start past the magic and the version) and
// shrunken copies of the ../shared fixtures (the first tensors of each safetensors file, the first
// vocabulary entries of each tokenizer.json). scripts/fuzz.sh adds the files copied as they are.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "data/dataset.h"
#include "data/heldout.h"
#include "data/shard.h"
#include "eval/benchmark.h"
#include "formats/safetensors.h"
#include "fuzz/fuzz_target.h"
#include "gguf/gguf_writer.h"
#include "retrieval/index.h"
#include "retrain/state.h"

namespace tune::fuzz {
namespace {

namespace fs = std::filesystem;

absl::Status WriteSeed(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  return core::WriteFileAtomic(path, bytes);
}

absl::Status GgufSeeds(const fs::path& dir) {
  gguf::GgufWriter writer;
  TUNE_RETURN_IF_ERROR(writer.Set("general.architecture", std::string("llama")));
  TUNE_RETURN_IF_ERROR(writer.Set("general.alignment", uint32_t{32}));
  TUNE_RETURN_IF_ERROR(writer.Set("llama.block_count", uint32_t{2}));
  TUNE_RETURN_IF_ERROR(writer.Set("llama.rope.freq_base", 10000.0f));
  TUNE_RETURN_IF_ERROR(writer.Set("general.size", uint64_t{1} << 40));
  TUNE_RETURN_IF_ERROR(writer.Set("tokenizer.ggml.add_bos_token", true));
  TUNE_RETURN_IF_ERROR(writer.Set("tokenizer.ggml.tokens", std::vector<std::string>{"<s>", "a", "\xE2\x96\x81"}));
  TUNE_RETURN_IF_ERROR(writer.Set("tokenizer.ggml.scores", std::vector<float>{0, -1, -2}));
  TUNE_RETURN_IF_ERROR(writer.Set("tokenizer.ggml.token_type", std::vector<int32_t>{3, 1, 1}));
  const std::string data(4096, '\x01');
  for (gguf::GgmlType type : {gguf::GgmlType::kF32, gguf::GgmlType::kF16, gguf::GgmlType::kQ8_0,
                              gguf::GgmlType::kQ4_K, gguf::GgmlType::kBF16}) {
    const std::vector<int64_t> ne = {gguf::GgmlBlockSize(type) == 1 ? 8 : gguf::GgmlBlockSize(type), 2};
    TUNE_ASSIGN_OR_RETURN(uint64_t nbytes, gguf::TensorBytes(type, ne));
    TUNE_RETURN_IF_ERROR(writer.AddTensor("blk.0." + std::string(gguf::GgmlTypeName(type)) + ".weight",
                                          type, ne, std::string_view(data).substr(0, nbytes)));
  }
  fs::create_directories(dir / "gguf");
  return writer.Write(dir / "gguf" / "tensors.gguf");
}

// The three smallest tensors of each fixture safetensors file, plus one tensor per dtype.
absl::Status SafetensorsSeeds(const fs::path& dir) {
  int n = 0;
  for (const char* model : {"tiny-llama", "tiny-qwen2", "tiny-qwen3", "tiny-starcoder2"}) {
    for (const char* file : {"model.safetensors", "reference.safetensors"}) {
      TUNE_ASSIGN_OR_RETURN(formats::SafetensorsFile in,
                            formats::SafetensorsFile::Open(FixturePath(model) / file));
      std::vector<const formats::TensorView*> tensors;
      for (const formats::TensorView& t : in.tensors()) tensors.push_back(&t);
      std::sort(tensors.begin(), tensors.end(), [](auto* a, auto* b) { return a->nbytes < b->nbytes; });
      tensors.resize(std::min<size_t>(tensors.size(), 3));
      formats::SafetensorsWriter out;
      for (const formats::TensorView* t : tensors) {
        TUNE_RETURN_IF_ERROR(out.Add(t->name, t->dtype, t->shape,
                                     std::string_view(reinterpret_cast<const char*>(t->data), t->nbytes)));
      }
      for (const auto& [key, value] : in.metadata()) out.SetMetadata(key, value);
      fs::create_directories(dir / "safetensors");
      TUNE_RETURN_IF_ERROR(out.Write(dir / "safetensors" / ("fixture-" + std::to_string(n++) + ".safetensors")));
    }
  }
  formats::SafetensorsWriter dtypes;
  const std::string data(64, '\x02');
  for (formats::DType dtype : {formats::DType::kF32, formats::DType::kF16, formats::DType::kBF16}) {
    TUNE_RETURN_IF_ERROR(dtypes.Add(std::string(formats::DTypeName(dtype)), dtype, {2, 2},
                                    std::string_view(data).substr(0, 4 * formats::DTypeSize(dtype))));
  }
  dtypes.SetMetadata("format", "pt");
  return dtypes.Write(dir / "safetensors" / "dtypes.safetensors");
}

// The fixture tokenizer.json files with the first 300 vocabulary entries, the merges among them
// and every added token.
absl::Status TokenizerJsonSeeds(const fs::path& dir) {
  for (const char* name : {"qwen3", "llama2"}) {
    const fs::path path = FixturePath("tokenizers") / name / "tokenizer.json";
    TUNE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
    nlohmann::json json = nlohmann::json::parse(text);
    std::set<std::string> kept;
    nlohmann::json vocab = nlohmann::json::object();
    for (const auto& [piece, id] : json["model"]["vocab"].items()) {
      if (id.get<int64_t>() < 300) vocab[piece] = id, kept.insert(piece);
    }
    nlohmann::json merges = nlohmann::json::array();
    for (const nlohmann::json& merge : json["model"]["merges"]) {
      std::string left, right;
      if (merge.is_array()) {
        left = merge[0].get<std::string>(), right = merge[1].get<std::string>();
      } else {
        const std::string m = merge.get<std::string>();
        left = m.substr(0, m.find(' ')), right = m.substr(m.find(' ') + 1);
      }
      if (kept.count(left) && kept.count(right) && kept.count(left + right)) merges.push_back(merge);
    }
    json["model"]["vocab"] = vocab;
    json["model"]["merges"] = merges;
    TUNE_RETURN_IF_ERROR(WriteSeed(dir / "tokenizer_json" / (std::string(name) + ".json"), json.dump(1)));
  }
  return absl::OkStatus();
}

absl::Status TokenizerEncodeSeeds(const fs::path& dir) {
  const std::vector<std::string> texts = {
      "def add(a, b):\n    return a + b\n",
      "<|fim_prefix|>int main() {<|fim_suffix|>}<|fim_middle|><|endoftext|>",
      "  caf\xC3\xA9 e\xCC\x81 \xE2\x96\x81\xE2\x96\x81 \xF0\x9F\x98\x80 \xFF\xFE\x00 <s></s>\t\r\n"};
  for (size_t i = 0; i < texts.size(); ++i) {
    for (char selector = 0; selector < 3; ++selector) {
      TUNE_RETURN_IF_ERROR(WriteSeed(dir / "tokenizer_encode" / absl::StrFormat("%d-%d", i, selector),
                                     std::string(1, selector) + texts[i]));
    }
  }
  return absl::OkStatus();
}

absl::Status DataSeeds(const fs::path& dir) {
  fs::create_directories(dir / "shard");
  TUNE_ASSIGN_OR_RETURN(data::ShardWriter shard, data::ShardWriter::Create(dir / "shard" / "two-docs", 100));
  const std::vector<int32_t> tokens = {1, 2, 3, 99, 0};
  const std::vector<uint8_t> mask = {0, 1, 1, 1, 0};
  TUNE_RETURN_IF_ERROR(shard.AddDocument(tokens, mask));
  TUNE_RETURN_IF_ERROR(shard.AddDocument(std::span(tokens).first(2), std::span(mask).first(2)));
  TUNE_ASSIGN_OR_RETURN(uint64_t checksum, shard.Finish());

  data::DatasetManifest manifest;
  manifest.repo = "/src/repo";
  manifest.rev = "HEAD";
  manifest.commit = std::string(40, 'a');
  manifest.repo_name = "repo";
  manifest.tokenizer_path = "tokenizer.json";
  manifest.vocab_size = 100;
  manifest.config_json = "{\"fim_rate\":0.5}";
  manifest.shards.push_back(data::ShardInfo{"train-00000.shard", "train", 7, 2, checksum});
  manifest.shards.push_back(data::ShardInfo{"eval-00000.shard", "eval", 0, 0, 0});
  manifest.train_tokens = 7;
  manifest.train_documents = 2;
  TUNE_RETURN_IF_ERROR(WriteSeed(dir / "dataset" / "manifest.json", data::ManifestToJson(manifest)));
  data::SplitRecord split;
  split.eval_fraction = 0.1;
  split.split_seed = 7;
  split.eval_after_commit = std::string(40, 'b');
  split.held_out = {"a.py", "src/b.rs"};
  TUNE_RETURN_IF_ERROR(WriteSeed(dir / "dataset" / "split.json", data::SplitToJson(split)));

  data::HeldOutSet heldout;
  heldout.commit = std::string(40, 'c');
  heldout.repo_name = "proj";
  heldout.files.push_back(data::HeldOutFile{"a.py", "python", "def a():\n    return 1\n",
                                            {data::ContextFile{"b.py", "import a\n"}}});
  heldout.files.push_back(data::HeldOutFile{"c.rs", "rust", "fn main() {}\n", {}});
  fs::create_directories(dir / "heldout");
  TUNE_RETURN_IF_ERROR(data::WriteHeldOut(dir / "heldout", heldout));
  fs::rename(dir / "heldout" / data::kHeldOutFileName, dir / "heldout" / "two-files");
  return absl::OkStatus();
}

absl::Status StateSeeds(const fs::path& dir) {
  retrain::RetrainState state;
  state.last_commit = std::string(40, 'd');
  state.served = "r0002";
  state.pending = retrain::PendingRun{"r0003", std::string(40, 'e'), "2026-12-07T10:00:00Z",
                                      retrain::Stage::kEval};
  retrain::RunRecord promoted;
  promoted.id = "r0001";
  promoted.outcome = "promoted";
  promoted.candidate = retrain::Scores{0.5, 0.75};
  promoted.served = retrain::Scores{0.25, 0.5};
  retrain::RunRecord failed;
  failed.id = "r0002";
  failed.outcome = "failed";
  failed.stage = "train";
  failed.reason = "out of memory";
  state.runs = {promoted, failed};
  fs::create_directories(dir / "retrain_state");
  return retrain::WriteState(dir / "retrain_state" / "state.json", state);
}

absl::Status HttpSeeds(const fs::path& dir) {
  // (endpoint selector, body): the selector is http_api_fuzzer's first byte.
  const std::vector<std::pair<char, std::string>> bodies = {
      {0, "{\"input_prefix\":\"def f():\\n\",\"input_suffix\":\"\\n\",\"prompt\":\"    re\","
      "\"input_extra\":[{\"filename\":\"a.py\",\"text\":\"x = 1\\n\",\"time\":3}],\"n_predict\":64,"
      "\"stop\":[\"\\n\\n\"],\"samplers\":\"kpt\",\"t_max_predict_ms\":500,\"cache_prompt\":true}"},
      {1, "{\"prompt\":[1,2,3],\"n_predict\":-1,\"temperature\":0.5,\"top_k\":40,\"seed\":4294967295,"
      "\"lora\":[{\"id\":0,\"scale\":0.5}],\"stream\":true,\"response_fields\":[\"content\"]}"},
      {2, "{\"prompt\":\"int main(\",\"suffix\":\"}\",\"max_tokens\":16.0,\"n\":2,\"echo\":false}"},
      {3, "{\"content\":\"<|fim_prefix|>x\",\"add_special\":true,\"with_pieces\":true}"},
      {4, "{\"tokens\":[0,1,151643]}"},
      {5, "[{\"id\":0,\"scale\":1.0},{\"id\":1}]"}};
  for (size_t i = 0; i < bodies.size(); ++i) {
    TUNE_RETURN_IF_ERROR(WriteSeed(dir / "http_api" / std::to_string(i),
                                   bodies[i].first + bodies[i].second));
  }
  return absl::OkStatus();
}

// A PEFT adapter_config.json as PEFT 0.13 writes it, a benchmark with one task per kind, and a
// retrieval index.
absl::Status AdapterAndBenchmarkSeeds(const fs::path& dir) {
  TUNE_RETURN_IF_ERROR(WriteSeed(
      dir / "peft_config" / "adapter_config.json",
      "{\"peft_type\": \"LORA\", \"task_type\": \"CAUSAL_LM\", \"r\": 16, \"lora_alpha\": 32, "
      "\"lora_dropout\": 0.05, \"bias\": \"none\", \"use_rslora\": false, \"use_dora\": false, "
      "\"fan_in_fan_out\": false, \"modules_to_save\": null, \"target_modules\": [\"q_proj\", "
      "\"v_proj\"], \"rank_pattern\": {\"layers.0.self_attn.q_proj\": 8}, \"alpha_pattern\": "
      "{\"v_proj\": 4.5}}\n"));
  eval::Benchmark b;
  b.dataset_commit = std::string(40, 'c');
  b.repo_name = "proj";
  b.tokenizer_fingerprint = "0123456789abcdef";
  b.seed = 1234;
  b.tasks_per_kind = 50;
  b.files.push_back(data::HeldOutFile{"a.py", "python", "def a():\n    return 1\n",
                                      {data::ContextFile{"b.py", "import a\n"}}});
  b.files.push_back(data::HeldOutFile{"c.rs", "rust", "fn main() {\n    let x = f(1, 2);\n}\n", {}});
  b.tasks.push_back(eval::Task{0, eval::TaskKind::kLine, "", 9, 21, 16});
  b.tasks.push_back(eval::Task{1, eval::TaskKind::kBlock, "", 12, 32, 24});
  b.tasks.push_back(eval::Task{1, eval::TaskKind::kNode, "arguments", 25, 31, 8});
  fs::create_directories(dir / "benchmark");
  TUNE_RETURN_IF_ERROR(eval::SaveBenchmark(dir / "benchmark" / "eval-benchmark.json", b));
  const retrieval::Index index(
      std::string(40, 'c'), "proj",
      {{"lib/money.py", "python", "", false,
        {{1, "def parse_money(text):\n    return int(text)\n", {"parse_money"}}, {4, "RATE = 3\n", {}}}},
       {"app/cart.py", "python", "", true, {{1, "from lib import money\nx = money.parse_money(s)\n", {}}}}});
  fs::create_directories(dir / "retrieval_index");
  return index.Write(dir / "retrieval_index");
}

}  // namespace
}  // namespace tune::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tune_fuzz_seeds OUT_DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  for (auto* generate : {&tune::fuzz::GgufSeeds, &tune::fuzz::SafetensorsSeeds,
                         &tune::fuzz::TokenizerJsonSeeds, &tune::fuzz::TokenizerEncodeSeeds,
                         &tune::fuzz::DataSeeds, &tune::fuzz::StateSeeds, &tune::fuzz::HttpSeeds,
                         &tune::fuzz::AdapterAndBenchmarkSeeds}) {
    if (absl::Status status = generate(dir); !status.ok()) {
      std::fprintf(stderr, "tune_fuzz_seeds: %s\n", status.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
