// Shared expectation of the tokenizer tests: a vocabulary's StarCoder-style FIM and repo tokens
// (<fim_prefix>, <fim_middle>, <fim_suffix>, <fim_pad>, <repo_name>, <file_sep>) are all found and
// are the tokens that spell them.
#pragma once

#include <gtest/gtest.h>

#include "tokenizer/tokenizer.h"

namespace tune::testing {

inline void ExpectStarCoderFimTokens(const tokenizer::Tokenizer& tok) {
  const tokenizer::FimTokens& fim = tok.fim();
  ASSERT_TRUE(fim.available());
  ASSERT_TRUE(fim.pad && fim.repo_name && fim.file_sep);
  EXPECT_EQ(tok.TokenText(*fim.prefix), "<fim_prefix>");
  EXPECT_EQ(tok.TokenText(*fim.middle), "<fim_middle>");
  EXPECT_EQ(tok.TokenText(*fim.suffix), "<fim_suffix>");
  EXPECT_EQ(tok.TokenText(*fim.pad), "<fim_pad>");
  EXPECT_EQ(tok.TokenText(*fim.repo_name), "<repo_name>");
  EXPECT_EQ(tok.TokenText(*fim.file_sep), "<file_sep>");
}

}  // namespace tune::testing
