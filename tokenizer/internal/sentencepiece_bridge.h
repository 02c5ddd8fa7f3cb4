// A thin torch-free wrapper around libsentencepiece, for tests, benchmarks and tools only: it
// is the reference the native tokenizer is compared with, and trains the tiny model. Never link
// it into anything that also links LibTorch (their protobufs clash at start-up). The header
// exposes std:: types only, because sentencepiece_processor.h redefines absl::string_view and
// must not meet Abseil in one translation unit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tune::tokenizer::spm_bridge {

class Processor {
 public:
  // Loads a tokenizer.model; returns nullptr and sets `error` on failure.
  static std::unique_ptr<Processor> Load(const std::string& path, std::string& error);
  ~Processor();

  std::vector<int32_t> Encode(std::string_view text) const;
  std::string Decode(const std::vector<int32_t>& ids) const;

 private:
  Processor();
  struct State;
  std::unique_ptr<State> state_;
};

// Runs the SentencePiece trainer with spm_train-style flags ("--input=... --model_prefix=...").
// Returns an empty string on success, else the error message.
std::string Train(const std::string& flags);

}  // namespace tune::tokenizer::spm_bridge
