#include "tokenizer/internal/sentencepiece_bridge.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

namespace tune::tokenizer::spm_bridge {

struct Processor::State {
  sentencepiece::SentencePieceProcessor sp;
};

Processor::Processor() : state_(std::make_unique<State>()) {}
Processor::~Processor() = default;

std::unique_ptr<Processor> Processor::Load(const std::string& path, std::string& error) {
  std::unique_ptr<Processor> p(new Processor());
  const auto status = p->state_->sp.Load(path);
  if (!status.ok()) {
    error = status.ToString();
    return nullptr;
  }
  return p;
}

std::vector<int32_t> Processor::Encode(std::string_view text) const {
  std::vector<int> ids;
  state_->sp.Encode(text, &ids).IgnoreError();
  return {ids.begin(), ids.end()};
}

std::string Processor::Decode(const std::vector<int32_t>& ids) const {
  std::string text;
  state_->sp.Decode(std::vector<int>(ids.begin(), ids.end()), &text).IgnoreError();
  return text;
}

std::string Train(const std::string& flags) {
  const auto status = sentencepiece::SentencePieceTrainer::Train(flags);
  return status.ok() ? std::string() : status.ToString();
}

}  // namespace tune::tokenizer::spm_bridge
