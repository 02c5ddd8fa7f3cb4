#include "inference/retrieved_context.h"

#include <gtest/gtest.h>

#include <set>

namespace tune::inference {
namespace {

retrieval::Index ShopIndex() {
  return retrieval::Index(
      "c", "shop",
      {{"lib/money.py", "python", "", false,
        {{1, "def parse_money(text):\n    return int(text)\n", {"parse_money"}},
         {4, "def format_cents(amount_cents):\n    return str(amount_cents)\n", {"format_cents"}}}},
       {"lib/tax.py", "python", "", false, {{1, "def vat(amount_cents):\n    return amount_cents // 5\n", {"vat"}}}},
       {"app/cart.py", "python", "", true, {{1, "def cart_total(items):\n    return sum(items)\n", {"cart_total"}}}}});
}

CompletionRequest Request(std::string prefix, std::string suffix) {
  CompletionRequest r;
  r.kind = PromptKind::kInfill;
  r.input_prefix = std::move(prefix);
  r.input_suffix = std::move(suffix);
  return r;
}

TEST(RetrievedContextTest, AppendsTheBestChunksLeastRelevantFirst) {
  const retrieval::Index index = ShopIndex();
  CompletionRequest r = Request("total = parse_money(raw)\ntax = vat(", ")\n");
  r.input_extra.push_back({"notes.txt", "open file"});
  EXPECT_EQ(AddRetrievedChunks(index, 2, r), 2);
  ASSERT_EQ(r.input_extra.size(), 3u);
  EXPECT_EQ(r.input_extra[0].filename, "notes.txt");  // the client's chunks stay first
  // Both called helpers come back; the best one last, next to the file.
  std::set<std::string> texts = {r.input_extra[1].text, r.input_extra[2].text};
  EXPECT_TRUE(texts.count("def parse_money(text):\n    return int(text)\n"));
  EXPECT_TRUE(texts.count("def vat(amount_cents):\n    return amount_cents // 5\n"));
  CompletionRequest one = Request("total = parse_money(raw)\ntax = vat(", ")\n");
  EXPECT_EQ(AddRetrievedChunks(index, 1, one), 1);
  EXPECT_EQ(one.input_extra[0].text, r.input_extra[2].text);
}

TEST(RetrievedContextTest, SkipsTextThePromptHoldsAndTheEditedFile) {
  const retrieval::Index index = ShopIndex();
  const std::string parse = "def parse_money(text):\n    return int(text)\n";
  CompletionRequest sent = Request("x = parse_money(", ")\n");
  sent.input_extra.push_back({"lib/money.py", "# money\n" + parse});
  AddRetrievedChunks(index, 4, sent);
  for (size_t i = 1; i < sent.input_extra.size(); ++i) EXPECT_NE(sent.input_extra[i].text, parse);
  CompletionRequest in_file = Request(parse + "\nx = parse_money(", ")\n");
  AddRetrievedChunks(index, 4, in_file);
  for (const ExtraChunk& c : in_file.input_extra) EXPECT_NE(c.text, parse);
  CompletionRequest named = Request("x = parse_money(", ")\n");
  named.filename = "lib/money.py";
  AddRetrievedChunks(index, 4, named);
  for (const ExtraChunk& c : named.input_extra) EXPECT_NE(c.filename, "lib/money.py");
  CompletionRequest none = Request("zzz qqq", "");
  EXPECT_EQ(AddRetrievedChunks(index, 4, none), 0);
  EXPECT_EQ(AddRetrievedChunks(index, 0, named), 0);
}

}  // namespace
}  // namespace tune::inference
