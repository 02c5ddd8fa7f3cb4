#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/loaders.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/word_cache.h"

namespace tune::tokenizer {

namespace fs = std::filesystem;
using internal::AddedTokenMatcher;
using internal::BpeMerges;
using internal::PreTokenizer;

namespace {

constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // ▁

// Per-call scratch buffers and the thread's word cache.
struct EncodeState {
  explicit EncodeState(internal::WordCache& c) : cache(c) {}
  internal::WordCache& cache;
  std::vector<internal::Piece> pieces;
  std::vector<int32_t> symbols;
  std::deque<std::string> texts;  // normalized segments, alive until the call returns
};

std::atomic<uint64_t> next_instance{1};

bool IsMatchable(TokenType t) {
  return t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown;
}

// FNV-1a, 64 bit: stable across runs and platforms, unlike absl::Hash.
class Fnv {
 public:
  void Add(std::string_view bytes) {
    AddRaw(bytes.size());
    for (char c : bytes) h_ = (h_ ^ static_cast<uint8_t>(c)) * 0x100000001B3ULL;
  }
  template <typename T>
  void AddRaw(const T& value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    for (size_t i = 0; i < sizeof(T); ++i) h_ = (h_ ^ p[i]) * 0x100000001B3ULL;
  }
  void Add(const std::optional<int32_t>& id) { AddRaw(id.value_or(-1)); }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xCBF29CE484222325ULL;
};

}  // namespace

struct Tokenizer::Impl {
  const uint64_t instance = next_instance.fetch_add(1);  // owner of thread WordCaches
  VocabData vocab;
  FimTokens fim;
  std::optional<PreTokenizer> pre;  // byte-level BPE only
  bool nfc = false;
  bool ignore_merges = false;  // Llama-3: a word that is a token is not merged
  // What each id decodes to.
  std::vector<std::string> token_bytes;
  // Normal tokens by their bytes (byte-level) or piece text (SentencePiece); the keys view
  // token_bytes / vocab.tokens.
  absl::flat_hash_map<std::string_view, int32_t> pieces;
  // Byte-level: the token of each byte. SentencePiece: the <0xXX> fallback tokens.
  std::array<int32_t, 256> byte_ids;
  BpeMerges merges;
  // Byte-level BPE of every two-byte word (a third of the words in source code): the merged
  // token, or -1 where the two byte tokens stay apart. Empty when a byte has no token.
  std::vector<int32_t> two_byte_ids;
  // Tokens matched in text with parse_special: control, user-defined and unknown tokens.
  AddedTokenMatcher specials;
  // Tokens matched in text always, as HF and libsentencepiece do: user-defined vocabulary
  // shortcuts (Gemma's whitespace runs, Qwen's <think>), but never a FIM / repo-level or
  // bos/eos/pad token, so file text cannot inject those.
  AddedTokenMatcher user_defined;
  // SentencePiece: no piece contains "x▁" (x != ▁), so merges never cross the start of a ▁ run
  // and text can be cut there into words (cacheable, short) with identical results.
  bool split_words = false;
  std::string fingerprint;

  absl::Status Build(const fs::path& origin);
  absl::Status CheckVocab(const fs::path& origin);
  absl::Status DecodeTokens(const fs::path& origin, absl::flat_hash_map<std::string_view, int32_t>& by_text);
  void FindByteTokensOrWordSplits();
  absl::Status LoadMerges(const fs::path& origin, const absl::flat_hash_map<std::string_view, int32_t>& by_text);
  absl::Status MergesFromScores();
  void FillTwoByteTable();
  void FindReservedTokens();
  std::string ComputeFingerprint() const;
  void EncodeSegment(std::string_view segment, std::vector<int32_t>& out,
                     EncodeState& state) const;
  void EncodeByteLevelWord(std::string_view word, std::vector<int32_t>& out,
                           EncodeState& state) const;
  void EncodeSentencePieceWord(std::string_view word, std::vector<int32_t>& out,
                               EncodeState& state) const;
};

namespace {

// `origin` is the file the vocabulary came from (found by fuzz/tokenizer_model: these errors
// did not name it), or "vocabulary data" for FromVocab.
absl::Status Invalid(const fs::path& origin, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: tokenizer vocabulary: %s; hint: the vocabulary data (tokenizer.json, "
                      "tokenizer.model or GGUF tokenizer.ggml.*) is inconsistent",
                      origin.string(), what));
}

}  // namespace

// The vocabulary's tables, one phase at a time: checks, decoded tokens, byte tokens or word
// splitting, merges, the two-byte table, reserved tokens, fingerprint.
absl::Status Tokenizer::Impl::Build(const fs::path& origin) {
  TUNE_RETURN_IF_ERROR(CheckVocab(origin));
  absl::flat_hash_map<std::string_view, int32_t> by_text;  // every token by its text
  TUNE_RETURN_IF_ERROR(DecodeTokens(origin, by_text));
  FindByteTokensOrWordSplits();
  TUNE_RETURN_IF_ERROR(vocab.merges.empty() ? MergesFromScores() : LoadMerges(origin, by_text));
  FillTwoByteTable();
  FindReservedTokens();
  fingerprint = ComputeFingerprint();
  return absl::OkStatus();
}

// Sizes, special ids in range, a supported model; sets the pre-tokenizer.
absl::Status Tokenizer::Impl::CheckVocab(const fs::path& origin) {
  const VocabData& v = vocab;
  const auto n = static_cast<int32_t>(v.tokens.size());
  if (n == 0) return Invalid(origin, "no tokens");
  if (v.types.size() != v.tokens.size()) {
    return Invalid(origin, absl::StrFormat("%d token types for %d tokens", v.types.size(), n));
  }
  if (!v.scores.empty() && v.scores.size() != v.tokens.size()) {
    return Invalid(origin, absl::StrFormat("%d scores for %d tokens", v.scores.size(), n));
  }
  for (const auto& [name, id] :
       {std::pair{"bos", v.bos}, {"eos", v.eos}, {"unk", v.unk}, {"pad", v.pad},
        {"fim prefix", v.fim.prefix}, {"fim middle", v.fim.middle}, {"fim suffix", v.fim.suffix},
        {"fim pad", v.fim.pad}, {"repo_name", v.fim.repo_name}, {"file_sep", v.fim.file_sep},
        {"eot", v.fim.eot}}) {
    if (id && (*id < 0 || *id >= n)) return Invalid(origin, absl::StrFormat("%s id %d", name, *id));
  }
  const bool byte_level = v.model == ModelKind::kByteLevelBpe;
  if (byte_level) {
    auto kind = internal::PreTokenizerFromGgufName(v.pre);
    if (!kind) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: byte-level pre-tokenizer '%s' is not supported; hint: supported are qwen2, "
          "llama-bpe, gpt-2, starcoder and deepseek-coder",
          origin.string(), v.pre));
    }
    pre.emplace(*kind);
    nfc = *kind == internal::PreTokenizerKind::kQwen2;
    ignore_merges = *kind == internal::PreTokenizerKind::kLlama3;
    if (v.merges.empty()) return Invalid(origin, "byte-level BPE without merges");
  } else if (v.merges.empty() && v.scores.empty()) {
    return Invalid(origin, "SentencePiece vocabulary with neither scores nor merges");
  }
  return absl::OkStatus();
}

// What each id decodes to, the lookup tables and the matchable specials.
absl::Status Tokenizer::Impl::DecodeTokens(const fs::path& origin,
                                           absl::flat_hash_map<std::string_view, int32_t>& by_text) {
  const VocabData& v = vocab;
  const auto n = static_cast<int32_t>(v.tokens.size());
  const bool byte_level = v.model == ModelKind::kByteLevelBpe;
  byte_ids.fill(-1);
  token_bytes.resize(n);
  by_text.reserve(static_cast<size_t>(n));
  pieces.reserve(static_cast<size_t>(n));
  for (int32_t id = 0; id < n; ++id) {
    const std::string& text = v.tokens[id];
    const TokenType type = v.types[id];
    by_text.try_emplace(text, id);
    if (IsMatchable(type)) specials.Add(text, id);
    if (byte_level) {
      // Added tokens are stored as their literal text, the others in the byte alphabet.
      const bool literal = type == TokenType::kControl || type == TokenType::kUserDefined;
      token_bytes[id] = literal ? text : internal::ByteLevelToBytes(text);
    } else if (type == TokenType::kByte) {
      // Two hex digits exactly: sscanf's %2X also took "<0x-3>", and byte_ids[4294967293] was
      // written (found by fuzz/tokenizer_model).
      if (text.size() != 6 || !text.starts_with("<0x") || text[5] != '>' ||
          !absl::ascii_isxdigit(static_cast<unsigned char>(text[3])) ||
          !absl::ascii_isxdigit(static_cast<unsigned char>(text[4]))) {
        return Invalid(origin, absl::StrFormat("byte token %d is '%s', not <0xXX>", id, text));
      }
      const unsigned value = static_cast<unsigned>(std::stoul(text.substr(3, 2), nullptr, 16));
      token_bytes[id] = std::string(1, static_cast<char>(value));
      byte_ids[value] = id;
    } else {
      std::string& out = token_bytes[id];
      for (size_t pos = 0; pos < text.size();) {
        if (text.compare(pos, kMetaspace.size(), kMetaspace) == 0) {
          out.push_back(' ');
          pos += kMetaspace.size();
        } else {
          out.push_back(text[pos++]);
        }
      }
    }
    if (type == TokenType::kNormal) {
      pieces.try_emplace(byte_level ? token_bytes[id] : text, id);
    }
  }
  return absl::OkStatus();
}

// Byte-level: the token of each byte. SentencePiece: whether text may be cut into words.
void Tokenizer::Impl::FindByteTokensOrWordSplits() {
  const VocabData& v = vocab;
  const auto n = static_cast<int32_t>(v.tokens.size());
  const bool byte_level = v.model == ModelKind::kByteLevelBpe;
  if (byte_level) {
    for (int b = 0; b < 256; ++b) {
      const char c = static_cast<char>(b);
      auto it = pieces.find(std::string_view(&c, 1));
      if (it != pieces.end()) byte_ids[b] = it->second;
    }
  } else {
    split_words = true;
    for (int32_t id = 0; id < n && split_words; ++id) {
      if (v.types[id] != TokenType::kNormal) continue;
      const std::string& t = v.tokens[id];
      for (size_t pos = t.find(kMetaspace, 1); pos != std::string::npos;
           pos = t.find(kMetaspace, pos + 1)) {
        if (pos < kMetaspace.size() ||
            t.compare(pos - kMetaspace.size(), kMetaspace.size(), kMetaspace) != 0) {
          split_words = false;
          break;
        }
      }
    }
  }
}

// The merges of a vocabulary that lists them (byte-level BPE, SentencePiece from tokenizer.json).
absl::Status Tokenizer::Impl::LoadMerges(const fs::path& origin,
                                         const absl::flat_hash_map<std::string_view, int32_t>& by_text) {
  const VocabData& v = vocab;
  const auto n = static_cast<int32_t>(v.tokens.size());
  const bool byte_level = v.model == ModelKind::kByteLevelBpe;
  // SentencePiece from tokenizer.json has merges but no scores, which GGUF needs: a piece
  // scores minus the rank of the first merge producing it, every other piece the lowest.
  const float unmerged = -static_cast<float>(v.merges.size());
  std::vector<float> synthesized;
  if (!byte_level && v.scores.empty()) synthesized.assign(n, unmerged);
  std::string joined;
  for (size_t rank = 0; rank < v.merges.size(); ++rank) {
    const std::string& m = v.merges[rank];
    const size_t space = m.find(' ', 1);
    if (space == std::string::npos) {
      return Invalid(origin, absl::StrFormat("merge %d '%s' is not 'left right'", rank, m));
    }
    const std::string_view left = std::string_view(m).substr(0, space);
    const std::string_view right = std::string_view(m).substr(space + 1);
    joined.assign(left).append(right);
    auto l = by_text.find(left), r = by_text.find(right), c = by_text.find(joined);
    if (l == by_text.end() || r == by_text.end() || c == by_text.end()) {
      return Invalid(origin, absl::StrFormat("merge %d '%s' names a token not in the vocabulary",
                                     rank, m));
    }
    merges.Add(l->second, r->second, static_cast<int32_t>(rank), c->second);
    if (!synthesized.empty() && synthesized[c->second] == unmerged) {
      synthesized[c->second] = -static_cast<float>(rank);
    }
  }
  if (!synthesized.empty()) vocab.scores = std::move(synthesized);
  return absl::OkStatus();
}

// SentencePiece scores: every split of a normal piece into two normal pieces is a merge, ranked by
// the piece's score (higher first; equal scores share a rank).
absl::Status Tokenizer::Impl::MergesFromScores() {
  const VocabData& v = vocab;
  const auto n = static_cast<int32_t>(v.tokens.size());
  std::vector<float> distinct;
  for (int32_t id = 0; id < n; ++id) {
    if (v.types[id] == TokenType::kNormal) distinct.push_back(v.scores[id]);
  }
  std::sort(distinct.begin(), distinct.end(), std::greater<>());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (int32_t id = 0; id < n; ++id) {
    if (v.types[id] != TokenType::kNormal) continue;
    const std::string& t = v.tokens[id];
    const auto rank = static_cast<int32_t>(
        std::lower_bound(distinct.begin(), distinct.end(), v.scores[id], std::greater<>()) -
        distinct.begin());
    for (size_t pos = internal::DecodeUtf8(t, 0).length; pos < t.size();
         pos += internal::DecodeUtf8(t, pos).length) {
      auto l = pieces.find(std::string_view(t).substr(0, pos));
      auto r = pieces.find(std::string_view(t).substr(pos));
      if (l != pieces.end() && r != pieces.end()) merges.Add(l->second, r->second, rank, id);
    }
  }
  return absl::OkStatus();
}

// Byte-level BPE of every two-byte word, when every byte has a token.
void Tokenizer::Impl::FillTwoByteTable() {
  const bool byte_level = vocab.model == ModelKind::kByteLevelBpe;
  if (byte_level &&
      std::all_of(byte_ids.begin(), byte_ids.end(), [](int32_t id) { return id >= 0; })) {
    two_byte_ids.assign(1 << 16, -1);
    std::vector<int32_t> pair;
    for (int b = 0; b < (1 << 16); ++b) {
      pair = {byte_ids[b >> 8], byte_ids[b & 0xFF]};
      merges.Apply(pair);
      if (pair.size() == 1) two_byte_ids[b] = pair[0];
    }
  }
}

// FIM and repo-level tokens, and the user-defined tokens matched in text (never those).
void Tokenizer::Impl::FindReservedTokens() {
  const VocabData& v = vocab;
  const auto n = static_cast<int32_t>(v.tokens.size());
  fim = v.fim;
  internal::DiscoverFimTokens(v, fim);
  for (int32_t id = 0; id < n; ++id) {
    if (v.types[id] != TokenType::kUserDefined) continue;
    bool reserved = false;
    for (const auto& r : {fim.prefix, fim.middle, fim.suffix, fim.pad, fim.repo_name,
                          fim.file_sep, fim.eot, v.bos, v.eos, v.pad}) {
      reserved = reserved || r == id;
    }
    if (!reserved) user_defined.Add(v.tokens[id], id);
  }
}

std::string Tokenizer::Impl::ComputeFingerprint() const {
  const VocabData& v = vocab;
  const auto n = static_cast<int32_t>(v.tokens.size());
  Fnv a;
  a.AddRaw(static_cast<int>(v.model));
  a.Add(v.pre);
  for (int32_t id = 0; id < n; ++id) {
    a.Add(v.tokens[id]);
    a.AddRaw(static_cast<int32_t>(v.types[id]));
    if (!vocab.scores.empty()) a.AddRaw(vocab.scores[id]);
  }
  for (const std::string& m : v.merges) a.Add(m);
  for (const auto& id : {v.bos, v.eos, v.unk, v.pad, fim.prefix, fim.middle, fim.suffix, fim.pad,
                         fim.repo_name, fim.file_sep, fim.eot}) {
    a.Add(id);
  }
  a.AddRaw(std::array<bool, 3>{v.add_bos, v.add_space_prefix, v.remove_extra_whitespaces});
  return absl::StrFormat("%016x", a.value());
}

void Tokenizer::Impl::EncodeByteLevelWord(std::string_view word, std::vector<int32_t>& out,
                                          EncodeState& state) const {
  if (ignore_merges) {
    if (auto it = pieces.find(word); it != pieces.end()) {
      out.push_back(it->second);
      return;
    }
  }
  if (word.size() == 2 && !two_byte_ids.empty()) {
    const int32_t id = two_byte_ids[static_cast<uint8_t>(word[0]) << 8 | static_cast<uint8_t>(word[1])];
    if (id >= 0) {
      out.push_back(id);
    } else {
      out.push_back(byte_ids[static_cast<uint8_t>(word[0])]);
      out.push_back(byte_ids[static_cast<uint8_t>(word[1])]);
    }
    return;
  }
  // Words of one or two bytes merge at most once: cheaper than a cache lookup.
  const bool cacheable = word.size() > 2;
  if (cacheable && state.cache.Find(word, out)) return;
  std::vector<int32_t>& symbols = state.symbols;
  symbols.clear();
  for (char c : word) {
    const int32_t id = byte_ids[static_cast<uint8_t>(c)];
    if (id >= 0) {
      symbols.push_back(id);
    } else if (vocab.unk) {
      symbols.push_back(*vocab.unk);
    }
  }
  merges.Apply(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
  if (cacheable) state.cache.Insert(word, symbols);
}

void Tokenizer::Impl::EncodeSentencePieceWord(std::string_view word, std::vector<int32_t>& out,
                                              EncodeState& state) const {
  if (state.cache.Find(word, out)) return;
  std::vector<int32_t>& symbols = state.symbols;
  symbols.clear();
  for (size_t pos = 0; pos < word.size();) {
    const int length = internal::DecodeUtf8(word, pos).length;
    // Byte fallback needs a byte token for every byte of the character, not only the first
    // (found by fuzz/tokenizer_model: a vocabulary with <0xE2> but not <0x96> encoded id -1).
    const auto has_byte_token = [&](char c) { return byte_ids[static_cast<uint8_t>(c)] >= 0; };
    if (auto it = pieces.find(word.substr(pos, length)); it != pieces.end()) {
      symbols.push_back(it->second);
    } else if (std::all_of(word.begin() + pos, word.begin() + pos + length, has_byte_token)) {
      for (int i = 0; i < length; ++i) {
        symbols.push_back(byte_ids[static_cast<uint8_t>(word[pos + i])]);
      }
    } else if (vocab.unk && (symbols.empty() || symbols.back() != *vocab.unk)) {
      symbols.push_back(*vocab.unk);  // runs of unknown characters fuse into one
    }
    pos += length;
  }
  merges.Apply(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
  state.cache.Insert(word, symbols);
}

void Tokenizer::Impl::EncodeSegment(std::string_view segment, std::vector<int32_t>& out,
                                    EncodeState& state) const {
  if (segment.empty()) return;
  if (pre) {
    std::string normalized;
    if (nfc && internal::NormalizeNfc(segment, normalized)) {
      segment = state.texts.emplace_back(std::move(normalized));
    }
    state.pieces.clear();
    pre->Split(segment, state.pieces);
    for (const internal::Piece& p : state.pieces) {
      EncodeByteLevelWord(segment.substr(p.offset, p.length), out, state);
    }
    return;
  }
  // SentencePiece normalization: optional trimming, the dummy prefix, spaces as ▁.
  std::string& text = state.texts.emplace_back();
  text.reserve(segment.size() + segment.size() / 4 + 3);
  size_t begin = 0, end = segment.size();
  if (vocab.remove_extra_whitespaces) {
    while (begin < end && segment[begin] == ' ') ++begin;
    if (begin == end) return;
  }
  if (vocab.add_space_prefix) text.append(kMetaspace);
  for (size_t i = begin; i < end; ++i) {
    if (segment[i] != ' ') {
      text.push_back(segment[i]);
    } else if (!vocab.remove_extra_whitespaces || segment[i - 1] != ' ') {
      text.append(kMetaspace);
    }
  }
  // Like SentencePiece, trailing ▁ go, including ones written in the input.
  while (vocab.remove_extra_whitespaces && text.ends_with(kMetaspace)) {
    text.resize(text.size() - kMetaspace.size());
  }
  if (text.empty()) return;
  if (!split_words) {
    EncodeSentencePieceWord(text, out, state);
    return;
  }
  size_t word_start = 0;
  for (size_t pos = text.find(kMetaspace, 1); pos != std::string::npos;
       pos = text.find(kMetaspace, pos + 1)) {
    if (pos >= 3 && text.compare(pos - 3, 3, kMetaspace) == 0) continue;
    if (pos > word_start) {
      EncodeSentencePieceWord(std::string_view(text).substr(word_start, pos - word_start), out,
                              state);
    }
    word_start = pos;
  }
  EncodeSentencePieceWord(std::string_view(text).substr(word_start), out, state);
}

Tokenizer::Tokenizer(std::unique_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromVocab(VocabData vocab) {
  auto impl = std::make_unique<Impl>();
  impl->vocab = std::move(vocab);
  TUNE_RETURN_IF_ERROR(impl->Build("vocabulary data"));
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Load(const fs::path& path) {
  fs::path file = path;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return absl::NotFoundError(absl::StrFormat(
        "%s: no such tokenizer file or directory; hint: pass a Hugging Face model directory, "
        "tokenizer.json or tokenizer.model",
        path.string()));
  }
  if (fs::is_directory(path, ec)) {
    file = path / "tokenizer.json";
    if (!fs::exists(file, ec)) file = path / "tokenizer.model";
    if (!fs::exists(file, ec)) {
      return absl::NotFoundError(absl::StrFormat(
          "%s: no tokenizer.json or tokenizer.model; hint: pass a Hugging Face model directory "
          "or the tokenizer file itself",
          path.string()));
    }
  }
  std::string config;
  if (fs::path config_path = file.parent_path() / "tokenizer_config.json";
      fs::exists(config_path, ec)) {
    TUNE_ASSIGN_OR_RETURN(config, core::ReadFile(config_path));
  }
  absl::StatusOr<VocabData> vocab;
  if (file.extension() == ".json") {
    vocab = internal::ReadHfTokenizerJson(file, config);
  } else if (file.extension() == ".model") {
    vocab = internal::ReadSentencePieceModel(file, config);
  } else {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: unknown tokenizer file type; hint: pass tokenizer.json, tokenizer.model or a "
        "directory holding one",
        file.string()));
  }
  if (!vocab.ok()) return vocab.status();
  auto impl = std::make_unique<Impl>();
  impl->vocab = *std::move(vocab);
  TUNE_RETURN_IF_ERROR(impl->Build(file));
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 1);
  EncodeState state(internal::WordCache::ForThread(impl_->instance));
  const AddedTokenMatcher& matcher = parse_special ? impl_->specials : impl_->user_defined;
  if (matcher.empty()) {
    impl_->EncodeSegment(text, out, state);
    return out;
  }
  for (size_t pos = 0;;) {
    const AddedTokenMatcher::Match m = matcher.Find(text, pos);
    impl_->EncodeSegment(text.substr(pos, m.offset - pos), out, state);
    if (m.id < 0) break;
    out.push_back(m.id);
    pos = m.offset + m.length;
  }
  return out;
}

std::string Tokenizer::Decode(std::span<const int32_t> ids) const {
  std::string out;
  for (int32_t id : ids) {
    if (id >= 0 && id < vocab_size()) out += impl_->token_bytes[id];
  }
  // SentencePiece's decoder drops the dummy prefix it added.
  if (impl_->vocab.model == ModelKind::kSentencePiece && impl_->vocab.add_space_prefix &&
      !out.empty() && out[0] == ' ') {
    out.erase(0, 1);
  }
  return out;
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->vocab.tokens.size()); }
std::optional<int32_t> Tokenizer::bos_id() const { return impl_->vocab.bos; }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->vocab.eos; }
bool Tokenizer::add_bos() const { return impl_->vocab.add_bos; }
const FimTokens& Tokenizer::fim() const { return impl_->fim; }
std::string Tokenizer::Fingerprint() const { return impl_->fingerprint; }
const VocabData& Tokenizer::vocab() const { return impl_->vocab; }

std::string Tokenizer::TokenBytes(int32_t id) const {
  return id >= 0 && id < vocab_size() ? impl_->token_bytes[id] : std::string();
}

std::string Tokenizer::TokenText(int32_t id) const {
  return id >= 0 && id < vocab_size() ? impl_->vocab.tokens[id] : std::string();
}

}  // namespace tune::tokenizer
