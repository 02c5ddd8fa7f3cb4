// Where a completion ends, decided as its text grows token by token, and how much of the text is
// settled (no rule can still cut it) and may be streamed. Rules, as llama.cpp's server applies
// them to FIM requests:
//   stop strings  the earliest occurrence ends the text before it (stop_type "word"); a tail
//                 that may be the start of a stop string is held back from streaming;
//   n_indent      once a newline was generated, a line whose first non-blank character is
//                 indented less than n_indent ends the text at that line's start ("limit");
//   single_line   the first newline after non-blank text ends it, without the newline ("limit");
//   time          t_max_predict_ms elapsed and a newline generated ("limit", checked by the engine).
// An incomplete UTF-8 sequence at the end is held back too. Plain value type, no llama.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "inference/request.h"

namespace tune::inference {

// The longest prompt a slot of n_ctx tokens takes for a request of n_predict tokens (-1: up to
// the context): it keeps room to generate min(n_predict, n_ctx / 2) tokens; a longer prompt
// keeps its end. The engine applies it; `tune eval`'s LibTorch runner mirrors it.
int32_t MaxPromptTokens(int32_t n_ctx, int32_t n_predict);

class StopScanner {
 public:
  explicit StopScanner(const CompletionRequest& request);

  // Adds the text of one generated token; true when a rule ended the completion.
  bool Append(std::string_view piece);
  // t_max_predict_ms: true (and stopped) when it is set, elapsed and a newline was generated.
  bool TimeUp(double elapsed_ms);
  // Ends the completion for a reason outside the text (EOS, token limit).
  void Finish(StopType type);
  // The whole decision after one generated token, in the engine's order: an end-of-generation
  // token ends it (its piece is not text); else the piece goes through the stop rules; else
  // `at_limit` (token or context limit) ends it; else t_max_predict_ms. True once stopped.
  // `tune serve` and `tune eval`'s LibTorch runner both decide through it.
  bool Step(bool end_of_generation, std::string_view piece, bool at_limit, double elapsed_ms);

  // The settled text not taken before. After the end, everything left.
  std::string TakeSettled();

  bool stopped() const { return stop_type_ != StopType::kNone; }
  StopType stop_type() const { return stop_type_; }
  const std::string& stopping_word() const { return stopping_word_; }
  const std::string& text() const { return text_; }
  bool has_new_line() const { return has_new_line_; }

 private:
  void Stop(StopType type, size_t cut, std::string word = {});
  bool CheckStopStrings(size_t search_from);
  bool CheckLines(size_t first_new_byte);
  size_t HeldBackBytes() const;

  std::vector<std::string> stop_;
  size_t longest_stop_ = 0;
  int32_t n_indent_;
  bool single_line_;
  int64_t t_max_predict_ms_;
  std::string text_;
  size_t taken_ = 0;
  size_t line_start_ = 0;  // start of the line being generated
  bool has_new_line_ = false;
  bool line_indent_known_ = false;  // the current line's first non-blank character was seen
  StopType stop_type_ = StopType::kNone;
  std::string stopping_word_;
};

}  // namespace tune::inference
