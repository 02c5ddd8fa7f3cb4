#include "inference/stop_rules.h"

#include <algorithm>

namespace tune::inference {

int32_t MaxPromptTokens(int32_t n_ctx, int32_t n_predict) {
  const int32_t room = std::min(n_predict >= 0 ? n_predict : n_ctx, n_ctx / 2);
  return std::max(1, n_ctx - std::max(room, 1));
}
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Bytes at the end of `s` that start a UTF-8 sequence not yet complete.
size_t IncompleteUtf8Tail(std::string_view s) {
  for (size_t back = 1; back <= std::min<size_t>(3, s.size()); ++back) {
    const auto c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
    const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

}  // namespace

StopScanner::StopScanner(const CompletionRequest& request)
    : n_indent_(request.n_indent),
      single_line_(request.single_line),
      t_max_predict_ms_(request.t_max_predict_ms) {
  for (const std::string& s : request.stop) {
    if (s.empty()) continue;
    stop_.push_back(s);
    longest_stop_ = std::max(longest_stop_, s.size());
  }
}

bool StopScanner::Append(std::string_view piece) {
  if (stopped()) return true;
  const size_t old_size = text_.size();
  text_.append(piece);
  // A stop string may straddle the previous text and the new piece.
  const size_t search_from = old_size >= longest_stop_ ? old_size - longest_stop_ + 1 : 0;
  if (CheckStopStrings(search_from)) return true;
  return CheckLines(old_size);
}

bool StopScanner::CheckStopStrings(size_t search_from) {
  size_t best = std::string::npos;
  const std::string* word = nullptr;
  for (const std::string& s : stop_) {
    const size_t at = text_.find(s, search_from);
    if (at < best) {
      best = at;
      word = &s;
    }
  }
  if (word == nullptr) return false;
  Stop(StopType::kWord, best, *word);
  return true;
}

bool StopScanner::CheckLines(size_t first_new_byte) {
  for (size_t i = first_new_byte; i < text_.size(); ++i) {
    if (text_[i] == '\n') {
      const bool line_has_text = std::any_of(text_.begin() + static_cast<ptrdiff_t>(line_start_),
                                             text_.begin() + static_cast<ptrdiff_t>(i),
                                             [](char c) { return !IsBlank(c); });
      if (single_line_ && (line_has_text || line_start_ > 0)) {
        Stop(StopType::kLimit, i);
        return true;
      }
      has_new_line_ = true;
      line_start_ = i + 1;
      line_indent_known_ = false;
      continue;
    }
    // The first non-blank character of a line after a generated newline decides its indent.
    if (n_indent_ > 0 && has_new_line_ && !line_indent_known_ && !IsBlank(text_[i])) {
      line_indent_known_ = true;
      if (static_cast<int32_t>(i - line_start_) < n_indent_) {
        Stop(StopType::kLimit, line_start_);
        return true;
      }
    }
  }
  return false;
}

bool StopScanner::TimeUp(double elapsed_ms) {
  if (stopped()) return true;
  if (t_max_predict_ms_ <= 0 || !has_new_line_ || elapsed_ms < double(t_max_predict_ms_)) return false;
  Stop(StopType::kLimit, text_.size());
  return true;
}

void StopScanner::Finish(StopType type) {
  if (!stopped()) Stop(type, text_.size());
}

bool StopScanner::Step(bool end_of_generation, std::string_view piece, bool at_limit, double elapsed_ms) {
  if (end_of_generation) {
    Finish(StopType::kEos);
  } else if (!Append(piece)) {
    if (at_limit) {
      Finish(StopType::kLimit);
    } else {
      TimeUp(elapsed_ms);
    }
  }
  return stopped();
}

void StopScanner::Stop(StopType type, size_t cut, std::string word) {
  stop_type_ = type;
  stopping_word_ = std::move(word);
  text_.resize(std::max(cut, taken_));
}

size_t StopScanner::HeldBackBytes() const {
  if (stopped()) return 0;
  std::string_view tail(text_);
  tail.remove_prefix(taken_);
  size_t held = IncompleteUtf8Tail(tail);
  // The longest tail that is a proper prefix of a stop string.
  for (const std::string& s : stop_) {
    for (size_t n = std::min(s.size() - 1, tail.size()); n > held; --n) {
      if (tail.substr(tail.size() - n) == std::string_view(s).substr(0, n)) {
        held = n;
        break;
      }
    }
  }
  // n_indent can still drop the current line until its first non-blank character.
  if (n_indent_ > 0 && has_new_line_ && !line_indent_known_) {
    held = std::max(held, text_.size() - std::max(line_start_, taken_));
  }
  return std::min(held, tail.size());
}

std::string StopScanner::TakeSettled() {
  const size_t end = text_.size() - HeldBackBytes();
  if (end <= taken_) return {};
  std::string out = text_.substr(taken_, end - taken_);
  taken_ = end;
  return out;
}

}  // namespace tune::inference
