#include "inference/http_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tune::inference {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const RequestLimits kLimits;

// ---- Bodies real clients send (docs: ../shared/reference/serving.md section 2) ---------------

// llama.vscode src/llama-server.ts createRequestPayload(noPredict=false), key order kept.
constexpr std::string_view kVscodeInfill = R"json({
  "id_slot": 0,
  "input_prefix": "import { add } from './util';\n\nfunction main() {\n",
  "input_suffix": "\n}\n",
  "input_extra": [
    {"text": "export function add(a: number, b: number) {\n  return a + b;\n}\n", "time": 1732460000000, "filename": "/home/u/proj/src/util.ts"},
    {"text": "// second chunk\n", "time": 1732460001000, "filename": "/home/u/proj/src/b.ts"}
  ],
  "prompt": "  const x = ",
  "n_predict": 128,
  "n_cmpl": 3,
  "top_k": 40,
  "top_p": 0.99,
  "stream": false,
  "samplers": ["top_k", "top_p", "infill"],
  "cache_prompt": true,
  "n_indent": 4,
  "t_max_prompt_ms": 500,
  "t_max_predict_ms": 500,
  "lora": [{"id": 0, "scale": 0.5}],
  "model": "qwen2.5-coder-1.5b"
})json";

// llama.vscode's ring-buffer warm-up (updateExtraContext).
constexpr std::string_view kVscodeWarmup = R"json({"id_slot":0,"input_prefix":"","input_suffix":"","input_extra":[{"text":"int a;\n","time":1732460000000,"filename":"a.c"}],"prompt":"","n_predict":0,"samplers":[],"cache_prompt":true,"t_max_prompt_ms":500,"t_max_predict_ms":1})json";

// llama.vim autoload/llama.vim: "time" is a reltime() list.
constexpr std::string_view kVimInfill = R"json({
  "id_slot": 0, "input_prefix": "#include <stdio.h>\n", "input_suffix": "\n}\n",
  "input_extra": [{"text":"int helper(void);\n","time":[1732460000,12345],"filename":"src/a.c"}],
  "prompt": "    int n = ", "n_predict": 128, "stop": [], "n_indent": 4,
  "top_k": 40, "top_p": 0.90, "samplers": ["top_k","top_p","infill"],
  "stream": false, "cache_prompt": true, "t_max_prompt_ms": 500, "t_max_predict_ms": 250,
  "response_fields": ["content","timings/prompt_n","timings/prompt_ms","timings/prompt_per_token_ms","timings/prompt_per_second",
                      "timings/predicted_n","timings/predicted_ms","timings/predicted_per_token_ms","timings/predicted_per_second",
                      "truncated","tokens_cached"]
})json";

constexpr std::string_view kVimWarmup = R"json({"id_slot":0,"input_prefix":"","input_suffix":"","input_extra":[{"text":"x\n","time":[1,2],"filename":"b.c"}],"prompt":"","n_predict":0,"stop":[],"n_indent":0,"top_k":40,"top_p":0.90,"samplers":[],"stream":false,"cache_prompt":true,"temperature":0.0,"t_max_prompt_ms":1,"t_max_predict_ms":1,"response_fields":[""]})json";

// Continue, provider llama.cpp (core/llm/llms/LlamaCpp.ts) -> POST /completion.
constexpr std::string_view kContinueCompletion = R"json({"prompt":"<|fim_prefix|>// Path: src/util.ts\n// export function add(...)\n// src/main.ts\nconst x = <|fim_suffix|>\n\nexport default x;\n<|fim_middle|>","stream":true,"n_predict":256,"stop":["<|endoftext|>","<|fim_prefix|>","<|fim_middle|>","<|fim_suffix|>","<|fim_pad|>","<|repo_name|>","<|file_sep|>","<|im_start|>","<|im_end|>","\n\n","\r\n\r\n","/src/","#- coding: utf-8","```"],"temperature":0.01})json";

// Continue, provider openai (legacy completions endpoint) -> POST /v1/completions.
constexpr std::string_view kContinueOpenAi = R"json({"model":"qwen2.5-coder-1.5b","prompt":"<|fim_prefix|>const x = <|fim_suffix|>;\n<|fim_middle|>","max_tokens":256,"temperature":0.01,"stop":["<|endoftext|>","<|fim_prefix|>","<|fim_middle|>","<|fim_suffix|>","\n\n","```"],"stream":true})json";

// Tabby's openai/completion kind, or any OpenAI FIM client against Ollama: prompt + suffix.
constexpr std::string_view kOllamaStyleOpenAi = R"json({"model":"coder","prompt":"def fib(n):\n    ","suffix":"\n        return fib(n - 1) + fib(n - 2)","max_tokens":64,"temperature":0.1,"stream":true,"presence_penalty":0.5})json";

// ---- /infill ---------------------------------------------------------------------------------

TEST(ParseInfillTest, LlamaVscodeBody) {
  auto r = ParseInfillRequest(kVscodeInfill, kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, PromptKind::kInfill);
  EXPECT_EQ(r->input_prefix, "import { add } from './util';\n\nfunction main() {\n");
  EXPECT_EQ(r->input_suffix, "\n}\n");
  EXPECT_EQ(r->prompt_text, "  const x = ");
  ASSERT_EQ(r->input_extra.size(), 2u);
  EXPECT_EQ(r->input_extra[0].filename, "/home/u/proj/src/util.ts");
  EXPECT_EQ(r->input_extra[0].text,
            "export function add(a: number, b: number) {\n  return a + b;\n}\n");
  EXPECT_EQ(r->input_extra[1].filename, "/home/u/proj/src/b.ts");
  EXPECT_EQ(r->n_predict, 128);
  EXPECT_EQ(r->n_cmpl, 3);
  EXPECT_EQ(r->sampling.top_k, 40);
  EXPECT_FLOAT_EQ(r->sampling.top_p, 0.99f);
  EXPECT_FALSE(r->stream);
  EXPECT_THAT(r->sampling.samplers, ElementsAre("top_k", "top_p", "infill"));
  EXPECT_TRUE(r->cache_prompt);
  EXPECT_EQ(r->n_indent, 4);
  EXPECT_EQ(r->t_max_predict_ms, 500);
  EXPECT_EQ(r->id_slot, 0);
  ASSERT_TRUE(r->lora.has_value());
  ASSERT_EQ(r->lora->size(), 1u);
  EXPECT_EQ((*r->lora)[0].id, 0);
  EXPECT_FLOAT_EQ((*r->lora)[0].scale, 0.5f);
  // Untouched defaults.
  EXPECT_FLOAT_EQ(r->sampling.temperature, 0.8f);
  EXPECT_FALSE(r->sampling.seed.has_value());
  EXPECT_THAT(r->stop, IsEmpty());
  EXPECT_THAT(r->response_fields, IsEmpty());
}

TEST(ParseInfillTest, LlamaVscodeWarmup) {
  auto r = ParseInfillRequest(kVscodeWarmup, kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, PromptKind::kInfill);
  EXPECT_EQ(r->n_predict, 0);
  EXPECT_THAT(r->sampling.samplers, IsEmpty());
  EXPECT_EQ(r->input_prefix, "");
  EXPECT_EQ(r->input_suffix, "");
  EXPECT_EQ(r->prompt_text, "");
  ASSERT_EQ(r->input_extra.size(), 1u);
  EXPECT_EQ(r->input_extra[0].text, "int a;\n");
  EXPECT_EQ(r->t_max_predict_ms, 1);
  EXPECT_FALSE(r->lora.has_value());
}

TEST(ParseInfillTest, LlamaVimBodyWithTimeArraysAndResponseFields) {
  auto r = ParseInfillRequest(kVimInfill, kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->input_extra.size(), 1u);
  EXPECT_EQ(r->input_extra[0].filename, "src/a.c");
  EXPECT_EQ(r->input_extra[0].text, "int helper(void);\n");
  EXPECT_EQ(r->prompt_text, "    int n = ");
  EXPECT_THAT(r->stop, IsEmpty());
  EXPECT_FLOAT_EQ(r->sampling.top_p, 0.9f);
  EXPECT_EQ(r->t_max_predict_ms, 250);
  ASSERT_EQ(r->response_fields.size(), 11u);
  EXPECT_EQ(r->response_fields[1], "timings/prompt_n");
  EXPECT_EQ(r->response_fields[10], "tokens_cached");
}

TEST(ParseInfillTest, LlamaVimWarmupProjectsToAnEmptyObject) {
  auto r = ParseInfillRequest(kVimWarmup, kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FLOAT_EQ(r->sampling.temperature, 0.0f);
  EXPECT_THAT(r->response_fields, ElementsAre(""));
  CompletionResult result;
  EXPECT_EQ(CompletionResultJson(result, *r, "m"), json::object());
}

TEST(ParseInfillTest, DefaultsFilenameAndOptionalPrompt) {
  auto r = ParseInfillRequest(
      R"({"input_prefix":"a","input_suffix":"b","input_extra":[{"text":"t"}]})", kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->input_extra[0].filename, "tmp");
  EXPECT_EQ(r->prompt_text, "");
  EXPECT_EQ(r->n_predict, -1);
  EXPECT_EQ(r->n_cmpl, 1);
  EXPECT_EQ(r->id_slot, -1);
}

TEST(ParseInfillTest, RequiresPrefixAndSuffixStrings) {
  auto no_prefix = ParseInfillRequest(R"({"input_suffix":""})", kLimits);
  EXPECT_EQ(no_prefix.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_prefix.status().message(), HasSubstr("\"input_prefix\" is required"));
  auto no_suffix = ParseInfillRequest(R"({"input_prefix":""})", kLimits);
  EXPECT_THAT(no_suffix.status().message(), HasSubstr("\"input_suffix\" is required"));
  auto number = ParseInfillRequest(R"({"input_prefix":1,"input_suffix":""})", kLimits);
  EXPECT_THAT(number.status().message(), HasSubstr("field \"input_prefix\" must be a string"));
  auto prompt = ParseInfillRequest(R"({"input_prefix":"","input_suffix":"","prompt":[1]})",
                                   kLimits);
  EXPECT_THAT(prompt.status().message(), HasSubstr("field \"prompt\" must be a string"));
}

TEST(ParseInfillTest, RejectsMisshapenInputExtraWithLlamaCppMessage) {
  const std::string shape =
      "\"input_extra\" must be an array of {\"filename\": string, \"text\": string}";
  for (const char* extra : {R"("text")", R"({"text":"a"})", R"([1])", R"([{"filename":"a"}])",
                            R"([{"text":5}])", R"([{"text":"a","filename":3}])",
                            R"([{"text":"a"},{"text":null}])"}) {
    SCOPED_TRACE(extra);
    auto r = ParseInfillRequest(
        absl::StrCat(R"({"input_prefix":"","input_suffix":"","input_extra":)", extra, "}"),
        kLimits);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(shape));
  }
}

TEST(ParseInfillTest, BoundsInputExtraChunks) {
  RequestLimits limits;
  limits.max_extra_chunks = 2;
  const std::string head = R"({"input_prefix":"","input_suffix":"","input_extra":)";
  const std::string two = head + R"([{"text":"a"},{"text":"b"}]})";
  const std::string three = head + R"([{"text":"a"},{"text":"b"},{"text":"c"}]})";
  EXPECT_TRUE(ParseInfillRequest(two, limits).ok());
  auto r = ParseInfillRequest(three, limits);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("at most 2"));
}

// ---- /completion -----------------------------------------------------------------------------

TEST(ParseCompletionTest, ContinueLlamaCppBody) {
  auto r = ParseCompletionRequest(kContinueCompletion, kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, PromptKind::kText);
  EXPECT_THAT(r->prompt_text, HasSubstr("<|fim_prefix|>// Path: src/util.ts\n"));
  EXPECT_TRUE(r->prompt_text.ends_with("<|fim_middle|>"));
  EXPECT_TRUE(r->stream);
  EXPECT_EQ(r->n_predict, 256);
  ASSERT_EQ(r->stop.size(), 14u);
  EXPECT_EQ(r->stop[0], "<|endoftext|>");
  EXPECT_EQ(r->stop[9], "\n\n");
  EXPECT_EQ(r->stop[10], "\r\n\r\n");
  EXPECT_EQ(r->stop[13], "```");
  EXPECT_FLOAT_EQ(r->sampling.temperature, 0.01f);
}

TEST(ParseCompletionTest, TokenPrompts) {
  auto r = ParseCompletionRequest(R"({"prompt":[151659, 0, 42]})", kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, PromptKind::kTokens);
  EXPECT_THAT(r->prompt_tokens, ElementsAre(151659, 0, 42));

  auto one_string = ParseCompletionRequest(R"({"prompt":["hello"]})", kLimits);
  ASSERT_TRUE(one_string.ok()) << one_string.status();
  EXPECT_EQ(one_string->kind, PromptKind::kText);
  EXPECT_EQ(one_string->prompt_text, "hello");

  for (const char* bad : {R"([1, -5])", R"([1, 2.5])", R"([1, "a"])", R"(["a", "b"])",
                          R"([4294967296])", R"([2147483648])", R"(5)", R"({"a":1})"}) {
    SCOPED_TRACE(bad);
    auto e = ParseCompletionRequest(absl::StrCat(R"({"prompt":)", bad, "}"), kLimits);
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(e.status().message(), HasSubstr("\"prompt\""));
  }
  auto negative = ParseCompletionRequest(R"({"prompt":[1, -5]})", kLimits);
  EXPECT_THAT(negative.status().message(), HasSubstr("-5"));
  auto max_id = ParseCompletionRequest(R"({"prompt":[2147483647]})", kLimits);
  ASSERT_TRUE(max_id.ok()) << max_id.status();
  EXPECT_THAT(max_id->prompt_tokens, ElementsAre(2147483647));
}

TEST(ParseCompletionTest, RequiresPrompt) {
  auto r = ParseCompletionRequest(R"({"n_predict":3})", kLimits);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("\"prompt\" is required"));
}

TEST(ParseCompletionTest, MalformedJsonGivesPosition) {
  auto r = ParseCompletionRequest("{\"prompt\": \"abc\",\n \"n_predict\": }", kLimits);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("not valid JSON"));
  EXPECT_THAT(r.status().message(), HasSubstr("line 2"));
  EXPECT_THAT(r.status().message(), ::testing::Not(HasSubstr("[json.exception")));
  for (std::string_view bad : {std::string_view(""), std::string_view("{"),
                               std::string_view("{\"prompt\":\"a\"} x"),
                               std::string_view("{\"prompt\":\"\xff\"}")}) {
    EXPECT_EQ(ParseCompletionRequest(bad, kLimits).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
  auto array = ParseCompletionRequest("[1,2]", kLimits);
  EXPECT_THAT(array.status().message(), HasSubstr("must be a JSON object"));
}

TEST(ParseCompletionTest, DeepNestingInAnIgnoredFieldIsHarmless) {
  const int depth = 100000;
  const std::string body = R"({"prompt":"x","junk":)" + std::string(depth, '[') +
                           std::string(depth, ']') + "}";
  auto r = ParseCompletionRequest(body, kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->prompt_text, "x");
}

// Byte-level mutations of real bodies: every parser answers with a status, never throws.
TEST(ParseCompletionTest, MutatedBodiesNeverThrow) {
  const std::string_view seeds[] = {kVscodeInfill, kVimInfill, kContinueCompletion,
                                    kContinueOpenAi, kOllamaStyleOpenAi};
  const char replacements[] = {'"', '[', ']', '{', '}', ',', ':', '-', '9', 'e', '.', '\\', 'x',
                               '\0', '\xff'};
  uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  int accepted = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::string body(seeds[iter % std::size(seeds)]);
    for (int k = 0; k < 1 + static_cast<int>(next() % 3); ++k) {
      body[next() % body.size()] = replacements[next() % std::size(replacements)];
    }
    EXPECT_NO_THROW({
      accepted += ParseInfillRequest(body, kLimits).ok();
      accepted += ParseCompletionRequest(body, kLimits).ok();
      accepted += ParseOpenAiCompletionRequest(body, kLimits).ok();
      (void)ParseTokenizeRequest(body);
      (void)ParseDetokenizeRequest(body);
      (void)ParseLoraScales(body);
    }) << body;
  }
  EXPECT_GT(accepted, 0);  // some mutations land in string contents and stay valid
}

// Every known option with a value of the wrong type: 400 naming the field and the type.
TEST(ParseCompletionTest, WrongTypesNameTheField) {
  struct Case {
    const char* field;
    const char* value;
    const char* expected;
  };
  const Case cases[] = {
      {"n_predict", R"("128")", "must be an integer"},
      {"n_predict", "1.5", "must be an integer"},
      {"max_tokens", "true", "must be an integer"},
      {"n_indent", "true", "must be an integer"},
      {"t_max_predict_ms", R"("500")", "must be an integer"},
      {"t_max_prompt_ms", "[]", "must be an integer"},
      {"stop", "5", "must be a string or an array of strings"},
      {"stop", R"(["a", 1])", "must be a string or an array of strings"},
      {"stream", R"("true")", "must be a boolean"},
      {"cache_prompt", "1", "must be a boolean"},
      {"n_cache_reuse", "2.5", "must be an integer"},
      {"id_slot", R"("0")", "must be an integer"},
      {"n_cmpl", R"("3")", "must be an integer"},
      {"return_tokens", "0", "must be a boolean"},
      {"single_line", R"("yes")", "must be a boolean"},
      {"temperature", R"("0.1")", "must be a number"},
      {"top_k", "1.5", "must be an integer"},
      {"top_p", "{}", "must be a number"},
      {"min_p", "[0.1]", "must be a number"},
      {"repeat_penalty", "true", "must be a number"},
      {"repeat_last_n", R"("64")", "must be an integer"},
      {"presence_penalty", "[]", "must be a number"},
      {"frequency_penalty", R"("0")", "must be a number"},
      {"seed", R"("42")", "must be an integer"},
      {"samplers", "5", "must be an array of strings"},
      {"samplers", R"(["top_k", 1])", "must be an array of strings"},
      {"lora", "{}", "must be an array of {\"id\": integer, \"scale\": number}"},
      {"lora", R"([{"scale": 1}])", "must be an array of {\"id\": integer, \"scale\": number}"},
      {"lora", R"([{"id": "0", "scale": 1}])", "field \"lora[0].id\" must be an integer"},
      {"lora", R"([{"id": 0, "scale": 1}, {"id": 1, "scale": "1"}])",
       "field \"lora[1].scale\" must be a number"},
      {"response_fields", R"("content")", "must be an array of strings"},
      {"response_fields", "[1]", "must be an array of strings"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.field, " = ", c.value));
    auto r = ParseCompletionRequest(
        absl::StrCat(R"({"prompt":"x",")", c.field, R"(":)", c.value, "}"), kLimits);
    ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(absl::StrCat("field \"", c.field)));
    EXPECT_THAT(r.status().message(), HasSubstr(c.expected));
    // The same options on /infill go through the same checks.
    auto infill = ParseInfillRequest(
        absl::StrCat(R"({"input_prefix":"","input_suffix":"",")", c.field, R"(":)", c.value, "}"),
        kLimits);
    EXPECT_EQ(infill.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(ParseCompletionTest, UnknownFieldsAndNullsAreIgnored) {
  auto r = ParseCompletionRequest(
      R"({"prompt":"x","model":"m","id":7,"typical_p":1,"mirostat":0,"n_probs":{"weird":[]},
          "n_predict":null,"seed":null,"stop":null,"temperature":null})",
      kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->n_predict, -1);
  EXPECT_FALSE(r->sampling.seed.has_value());
  EXPECT_FLOAT_EQ(r->sampling.temperature, 0.8f);
}

TEST(ParseCompletionTest, IntegralFloatsAreIntegers) {
  auto r = ParseCompletionRequest(R"({"prompt":"x","n_predict":128.0,"top_k":2e1})", kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->n_predict, 128);
  EXPECT_EQ(r->sampling.top_k, 20);
}

TEST(ParseCompletionTest, RejectsNonFiniteNumbers) {
  for (const char* body : {R"({"prompt":"x","temperature":1e999})",
                           R"({"prompt":"x","top_p":-1e999})",
                           R"({"prompt":"x","min_p":1e300})",  // finite double, inf as float
                           R"({"prompt":"x","n_predict":1e999})"}) {
    SCOPED_TRACE(body);
    EXPECT_EQ(ParseCompletionRequest(body, kLimits).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(ParseCompletionTest, NPredictBounds) {
  auto max = ParseCompletionRequest(R"({"prompt":"x","n_predict":4096})", kLimits);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->n_predict, 4096);
  auto over = ParseCompletionRequest(R"({"prompt":"x","n_predict":4097})", kLimits);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(over.status().message(), HasSubstr("field \"n_predict\" must be in [-1, 4096]"));
  EXPECT_FALSE(ParseCompletionRequest(R"({"prompt":"x","n_predict":-2})", kLimits).ok());
  auto alias_over = ParseCompletionRequest(R"({"prompt":"x","max_tokens":100000})", kLimits);
  EXPECT_THAT(alias_over.status().message(), HasSubstr("field \"max_tokens\""));
  auto alias = ParseCompletionRequest(R"({"prompt":"x","max_tokens":7})", kLimits);
  EXPECT_EQ(alias->n_predict, 7);
  // llama.cpp: n_predict wins over max_tokens.
  auto both = ParseCompletionRequest(R"({"prompt":"x","n_predict":5,"max_tokens":100000})",
                                     kLimits);
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->n_predict, 5);
}

TEST(ParseCompletionTest, NCmplBoundsUseLlamaCppMessage) {
  for (const char* n : {"0", "5", "-1"}) {
    auto r = ParseInfillRequest(
        absl::StrCat(R"({"input_prefix":"","input_suffix":"","n_cmpl":)", n, "}"), kLimits);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "Field 'n_cmpl': Value must be between 1 <= value <= 4");
  }
  RequestLimits two;
  two.max_n_cmpl = 2;
  EXPECT_EQ(ParseCompletionRequest(R"({"prompt":"x","n_cmpl":3})", two).status().message(),
            "Field 'n_cmpl': Value must be between 1 <= value <= 2");
  EXPECT_EQ(ParseCompletionRequest(R"({"prompt":"x","n_cmpl":2})", two)->n_cmpl, 2);
}

TEST(ParseCompletionTest, StopStrings) {
  auto one = ParseCompletionRequest(R"({"prompt":"x","stop":"\n"})", kLimits);
  ASSERT_TRUE(one.ok());
  EXPECT_THAT(one->stop, ElementsAre("\n"));
  auto empties = ParseCompletionRequest(R"({"prompt":"x","stop":["", "a", ""]})", kLimits);
  EXPECT_THAT(empties->stop, ElementsAre("a"));

  auto many = [](int n) {
    json body = {{"prompt", "x"}, {"stop", json::array()}};
    for (int i = 0; i < n; ++i) body["stop"].push_back("s" + std::to_string(i));
    return body.dump();
  };
  EXPECT_TRUE(ParseCompletionRequest(many(64), kLimits).ok());
  auto too_many = ParseCompletionRequest(many(65), kLimits);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_many.status().message(), HasSubstr("at most 64"));

  json ok_len = {{"prompt", "x"}, {"stop", std::string(256, 'a')}};
  EXPECT_TRUE(ParseCompletionRequest(ok_len.dump(), kLimits).ok());
  json long_stop = {{"prompt", "x"}, {"stop", {"a", std::string(257, 'a')}}};
  auto too_long = ParseCompletionRequest(long_stop.dump(), kLimits);
  EXPECT_THAT(too_long.status().message(), HasSubstr("257 bytes"));
}

TEST(ParseCompletionTest, Seeds) {
  auto seed = [](const char* v) {
    return ParseCompletionRequest(absl::StrCat(R"({"prompt":"x","seed":)", v, "}"), kLimits);
  };
  EXPECT_FALSE(seed("-1")->sampling.seed.has_value());
  EXPECT_FALSE(seed("4294967295")->sampling.seed.has_value());
  EXPECT_EQ(seed("42")->sampling.seed, 42u);
  EXPECT_EQ(seed("0")->sampling.seed, 0u);
  EXPECT_EQ(seed("4294967294")->sampling.seed, 4294967294u);
  EXPECT_FALSE(seed("4294967296").ok());
  EXPECT_FALSE(seed("-2").ok());
  EXPECT_FALSE(seed("18446744073709551615").ok());
}

TEST(ParseCompletionTest, SamplersAsLetterString) {
  auto r = ParseCompletionRequest(R"({"prompt":"x","samplers":"kpiz"})", kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->sampling.samplers, ElementsAre("top_k", "top_p", "infill"));
}

TEST(ParseCompletionTest, OtherOptionRanges) {
  EXPECT_FALSE(ParseCompletionRequest(R"({"prompt":"x","id_slot":-2})", kLimits).ok());
  EXPECT_FALSE(ParseCompletionRequest(R"({"prompt":"x","n_indent":-1})", kLimits).ok());
  EXPECT_FALSE(ParseCompletionRequest(R"({"prompt":"x","lora":[{"id":-1,"scale":1}]})", kLimits)
                   .ok());
  auto r = ParseCompletionRequest(
      R"({"prompt":"x","t_max_predict_ms":-1,"single_line":true,"return_tokens":true,
          "n_cache_reuse":256,"repeat_last_n":-1,"repeat_penalty":1.1,"presence_penalty":0.5,
          "frequency_penalty":0.25,"min_p":0.1,"top_k":0,"lora":[{"id":1}],"cache_prompt":false})",
      kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->t_max_predict_ms, 0);
  EXPECT_TRUE(r->single_line);
  EXPECT_TRUE(r->return_tokens);
  EXPECT_FALSE(r->cache_prompt);
  EXPECT_EQ(r->n_cache_reuse, 256);
  EXPECT_EQ(r->sampling.repeat_last_n, -1);
  EXPECT_FLOAT_EQ(r->sampling.repeat_penalty, 1.1f);
  EXPECT_FLOAT_EQ(r->sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(r->sampling.frequency_penalty, 0.25f);
  EXPECT_FLOAT_EQ(r->sampling.min_p, 0.1f);
  EXPECT_EQ(r->sampling.top_k, 0);
  ASSERT_TRUE(r->lora.has_value());
  EXPECT_EQ((*r->lora)[0].id, 1);
  EXPECT_FLOAT_EQ((*r->lora)[0].scale, 0.0f);  // llama.cpp: missing scale = 0
}

// ---- /v1/completions -------------------------------------------------------------------------

TEST(ParseOpenAiTest, ContinueOpenAiBody) {
  auto r = ParseOpenAiCompletionRequest(kContinueOpenAi, kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, PromptKind::kText);
  EXPECT_EQ(r->prompt_text, "<|fim_prefix|>const x = <|fim_suffix|>;\n<|fim_middle|>");
  EXPECT_EQ(r->n_predict, 256);
  EXPECT_FLOAT_EQ(r->sampling.temperature, 0.01f);
  EXPECT_EQ(r->stop.size(), 6u);
  EXPECT_TRUE(r->stream);
  EXPECT_EQ(r->n_cmpl, 1);
}

TEST(ParseOpenAiTest, SuffixMakesAnInfillRequest) {
  auto r = ParseOpenAiCompletionRequest(kOllamaStyleOpenAi, kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, PromptKind::kInfill);
  EXPECT_EQ(r->input_prefix, "def fib(n):\n    ");
  EXPECT_EQ(r->input_suffix, "\n        return fib(n - 1) + fib(n - 2)");
  EXPECT_EQ(r->prompt_text, "");
  EXPECT_EQ(r->n_predict, 64);
  EXPECT_FLOAT_EQ(r->sampling.presence_penalty, 0.5f);

  auto empty_suffix = ParseOpenAiCompletionRequest(R"({"prompt":"a","suffix":""})", kLimits);
  ASSERT_TRUE(empty_suffix.ok());
  EXPECT_EQ(empty_suffix->kind, PromptKind::kText);
  EXPECT_EQ(empty_suffix->prompt_text, "a");

  EXPECT_THAT(ParseOpenAiCompletionRequest(R"({"prompt":"a","suffix":3})", kLimits)
                  .status()
                  .message(),
              HasSubstr("field \"suffix\" must be a string"));
  EXPECT_FALSE(ParseOpenAiCompletionRequest(R"({"prompt":[1,2],"suffix":"b"})", kLimits).ok());
}

TEST(ParseOpenAiTest, RejectsEchoAndBestOf) {
  auto echo = ParseOpenAiCompletionRequest(R"({"prompt":"a","echo":true})", kLimits);
  EXPECT_EQ(echo.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(echo.status().message(), "Only no echo is supported");
  EXPECT_TRUE(ParseOpenAiCompletionRequest(R"({"prompt":"a","echo":false})", kLimits).ok());
  auto best_of = ParseOpenAiCompletionRequest(R"({"prompt":"a","best_of":2})", kLimits);
  EXPECT_EQ(best_of.status().message(), "Unsupported param: best_of");
  EXPECT_TRUE(ParseOpenAiCompletionRequest(R"({"prompt":"a","best_of":1})", kLimits).ok());
}

TEST(ParseOpenAiTest, NLogprobsAndMaxTokens) {
  auto r = ParseOpenAiCompletionRequest(
      R"({"prompt":["a"],"n":2,"logprobs":5,"user":"u",
          "stream_options":{"include_usage":true},"max_tokens":null})",
      kLimits);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->n_cmpl, 2);
  EXPECT_EQ(r->n_predict, -1);
  EXPECT_EQ(r->prompt_text, "a");
  EXPECT_EQ(ParseOpenAiCompletionRequest(R"({"prompt":"a","n":9})", kLimits).status().message(),
            "Field 'n': Value must be between 1 <= value <= 4");
  EXPECT_FALSE(ParseOpenAiCompletionRequest(R"({"prompt":["a","b"]})", kLimits).ok());
  EXPECT_FALSE(ParseOpenAiCompletionRequest(R"({"prompt":"a","max_tokens":4097})", kLimits).ok());
  EXPECT_FALSE(ParseOpenAiCompletionRequest(R"({"max_tokens":3})", kLimits).ok());
}

// ---- Small endpoints -------------------------------------------------------------------------

TEST(ParseSmallEndpointsTest, Tokenize) {
  auto d = ParseTokenizeRequest(R"({"content":"hi"})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->content, "hi");
  EXPECT_FALSE(d->add_special);
  EXPECT_TRUE(d->parse_special);
  EXPECT_FALSE(d->with_pieces);
  auto all = ParseTokenizeRequest(
      R"({"content":"<|fim_prefix|>","add_special":true,"parse_special":false,
          "with_pieces":true})");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->add_special);
  EXPECT_FALSE(all->parse_special);
  EXPECT_TRUE(all->with_pieces);
  EXPECT_THAT(ParseTokenizeRequest(R"({"content":5})").status().message(),
              HasSubstr("field \"content\" must be a string"));
  EXPECT_FALSE(ParseTokenizeRequest(R"({"with_pieces":"yes"})").ok());
}

TEST(ParseSmallEndpointsTest, Detokenize) {
  auto r = ParseDetokenizeRequest(R"({"tokens":[1,2,3]})");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->tokens, ElementsAre(1, 2, 3));
  EXPECT_THAT(ParseDetokenizeRequest("{}")->tokens, IsEmpty());
  EXPECT_FALSE(ParseDetokenizeRequest(R"({"tokens":[1,-2]})").ok());
  EXPECT_FALSE(ParseDetokenizeRequest(R"({"tokens":"12"})").ok());
}

TEST(ParseSmallEndpointsTest, LoraScales) {
  auto r = ParseLoraScales(R"([{"id":0,"scale":0.5},{"id":2,"scale":1}])");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].id, 2);
  EXPECT_FLOAT_EQ((*r)[0].scale, 0.5f);
  EXPECT_TRUE(ParseLoraScales("[]")->empty());
  EXPECT_FALSE(ParseLoraScales(R"({"id":0,"scale":1})").ok());
  EXPECT_FALSE(ParseLoraScales(R"([{"id":0,"scale":"x"}])").ok());
  EXPECT_FALSE(ParseLoraScales(R"([{"scale":1}])").ok());
}

// ---- Responses -------------------------------------------------------------------------------

CompletionResult SampleResult() {
  CompletionResult r;
  r.index = 0;
  r.content = "return a + b;\n";
  r.tokens = {689, 264};
  r.id_slot = 1;
  r.stop_type = StopType::kEos;
  r.tokens_predicted = 6;
  r.tokens_evaluated = 412;
  r.tokens_cached = 417;
  r.truncated = false;
  r.has_new_line = true;
  r.prompt = "<|fim_prefix|>x<|fim_suffix|><|fim_middle|>";
  r.timings = {.cache_n = 380, .prompt_n = 32, .prompt_ms = 16.0, .predicted_n = 6,
               .predicted_ms = 60.0};
  return r;
}

std::vector<std::string> Keys(const json& j) {
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  return keys;
}

TEST(ResultJsonTest, FinalObjectFieldsAndValues) {
  CompletionRequest req;
  req.kind = PromptKind::kInfill;
  req.n_predict = 128;
  req.return_tokens = true;
  req.sampling.temperature = 0.01f;
  req.sampling.top_p = 0.99f;
  req.sampling.seed = 7;
  req.stop = {"\n\n"};
  req.n_indent = 4;
  req.sampling.samplers = {"top_k", "top_p", "infill"};
  const json j = CompletionResultJson(SampleResult(), req, "coder.gguf");
  EXPECT_THAT(Keys(j), ::testing::UnorderedElementsAre(
                           "index", "content", "tokens", "id_slot", "stop", "model",
                           "tokens_predicted", "tokens_evaluated", "generation_settings", "prompt",
                           "has_new_line", "truncated", "stop_type", "stopping_word",
                           "tokens_cached", "timings"));
  EXPECT_EQ(j["content"], "return a + b;\n");
  EXPECT_EQ(j["tokens"], json({689, 264}));
  EXPECT_EQ(j["id_slot"], 1);
  EXPECT_EQ(j["stop"], true);
  EXPECT_EQ(j["model"], "coder.gguf");
  EXPECT_EQ(j["tokens_predicted"], 6);
  EXPECT_EQ(j["tokens_evaluated"], 412);
  EXPECT_EQ(j["tokens_cached"], 417);
  EXPECT_EQ(j["stop_type"], "eos");
  EXPECT_EQ(j["has_new_line"], true);
  EXPECT_EQ(j["truncated"], false);
  EXPECT_EQ(j["prompt"], "<|fim_prefix|>x<|fim_suffix|><|fim_middle|>");

  const json& t = j["timings"];
  EXPECT_EQ(t["cache_n"], 380);
  EXPECT_EQ(t["prompt_n"], 32);
  EXPECT_DOUBLE_EQ(t["prompt_ms"].get<double>(), 16.0);
  EXPECT_DOUBLE_EQ(t["prompt_per_token_ms"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(t["prompt_per_second"].get<double>(), 2000.0);
  EXPECT_EQ(t["predicted_n"], 6);
  EXPECT_DOUBLE_EQ(t["predicted_per_token_ms"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(t["predicted_per_second"].get<double>(), 100.0);

  const json& g = j["generation_settings"];
  EXPECT_EQ(g["n_predict"], 128);
  EXPECT_EQ(g["temperature"].get<double>(), 0.01);  // the client's spelling, not 0.00999999977
  EXPECT_EQ(g["top_p"].get<double>(), 0.99);
  EXPECT_EQ(g["top_k"], 40);
  EXPECT_EQ(g["seed"], 7);
  EXPECT_EQ(g["stop"], json({"\n\n"}));
  EXPECT_EQ(g["n_indent"], 4);
  EXPECT_EQ(g["samplers"], json({"top_k", "top_p", "infill"}));
  EXPECT_TRUE(g.contains("min_p"));
  EXPECT_NO_THROW(DumpJson(j));
}

TEST(ResultJsonTest, StopTypesSeedAndDefaultSamplers) {
  CompletionRequest req;
  CompletionResult r = SampleResult();
  const std::pair<StopType, const char*> types[] = {{StopType::kNone, "none"},
                                                    {StopType::kEos, "eos"},
                                                    {StopType::kLimit, "limit"},
                                                    {StopType::kWord, "word"}};
  for (auto [type, name] : types) {
    r.stop_type = type;
    EXPECT_EQ(CompletionResultJson(r, req, "m")["stop_type"], name);
  }
  r.stop_type = StopType::kWord;
  r.stopping_word = "\n\n";
  const json j = CompletionResultJson(r, req, "m");
  EXPECT_EQ(j["stopping_word"], "\n\n");
  EXPECT_EQ(j["generation_settings"]["seed"], 4294967295u);  // random, as llama.cpp reports it
  EXPECT_EQ(j["generation_settings"]["samplers"],
            json({"penalties", "top_k", "top_p", "min_p", "temperature"}));
}

TEST(ResultJsonTest, ZeroTimingsGiveZeroRatesNotNull) {
  CompletionRequest req;
  CompletionResult r;  // n_predict 0 warm-up: nothing predicted
  r.timings.prompt_n = 10;
  const json t = CompletionResultJson(r, req, "m")["timings"];
  EXPECT_EQ(t["predicted_per_token_ms"].get<double>(), 0.0);
  EXPECT_EQ(t["predicted_per_second"].get<double>(), 0.0);
  EXPECT_EQ(t["prompt_per_second"].get<double>(), 0.0);
  EXPECT_THAT(DumpJson(t), ::testing::Not(HasSubstr("null")));
}

TEST(ResultJsonTest, StreamFinalEventCarriesNoContent) {
  CompletionRequest req;
  req.stream = true;
  const json j = CompletionResultJson(SampleResult(), req, "m");
  EXPECT_EQ(j["content"], "");
  EXPECT_EQ(j["tokens"], json::array());
  EXPECT_EQ(j["stop"], true);
  EXPECT_EQ(j["tokens_predicted"], 6);
}

TEST(ResultJsonTest, ResponseFieldsAreUnnestedToTheRoot) {
  auto req = ParseInfillRequest(kVimInfill, kLimits);
  ASSERT_TRUE(req.ok());
  const json j = CompletionResultJson(SampleResult(), *req, "m");
  EXPECT_THAT(Keys(j), ::testing::UnorderedElementsAre(
                           "content", "timings/prompt_n", "timings/prompt_ms",
                           "timings/prompt_per_token_ms", "timings/prompt_per_second",
                           "timings/predicted_n", "timings/predicted_ms",
                           "timings/predicted_per_token_ms", "timings/predicted_per_second",
                           "truncated", "tokens_cached"));
  EXPECT_EQ(j["content"], "return a + b;\n");
  EXPECT_EQ(j["timings/prompt_n"], 32);
  EXPECT_EQ(j["timings/predicted_per_second"].get<double>(), 100.0);
  EXPECT_EQ(j["tokens_cached"], 417);
  EXPECT_FALSE(j.contains("timings"));

  CompletionRequest missing;
  missing.response_fields = {"timings/nope", "content/x", "nope", "generation_settings/top_k",
                             "stop_type"};
  const json m = CompletionResultJson(SampleResult(), missing, "m");
  EXPECT_EQ(m, json({{"generation_settings/top_k", 40}, {"stop_type", "eos"}}));
}

TEST(ResultJsonTest, SeveralCompletionsAreAnArrayByIndex) {
  CompletionRequest req;
  std::vector<CompletionResult> results(3, SampleResult());
  results[0].index = 2;
  results[0].content = "c";
  results[1].index = 0;
  results[1].content = "a";
  results[2].index = 1;
  results[2].content = "b";
  const json arr = CompletionResponseJson(results, req, "m");
  ASSERT_TRUE(arr.is_array());
  ASSERT_EQ(arr.size(), 3u);
  EXPECT_EQ(arr[0]["content"], "a");
  EXPECT_EQ(arr[1]["content"], "b");
  EXPECT_EQ(arr[2]["content"], "c");
  EXPECT_EQ(arr[2]["index"], 2);
  const json one = CompletionResponseJson({SampleResult()}, req, "m");
  EXPECT_TRUE(one.is_object());
  EXPECT_EQ(one["content"], "return a + b;\n");
}

TEST(ResultJsonTest, PartialEvent) {
  PartialResult p{.index = 1, .content = " a", .tokens = {264}, .tokens_predicted = 2,
                  .tokens_evaluated = 412, .id_slot = 0};
  const json j = PartialResultJson(p);
  EXPECT_EQ(j, json({{"index", 1}, {"content", " a"}, {"tokens", {264}}, {"stop", false},
                     {"id_slot", 0}, {"tokens_predicted", 2}, {"tokens_evaluated", 412}}));
  EXPECT_EQ(SseEvent(j), "data: " + DumpJson(j) + "\n\n");
  EXPECT_TRUE(SseEvent(ErrorJson(500, "x"), "error").starts_with("error: {\"error\":"));
}

TEST(ResultJsonTest, OpenAiCompletion) {
  std::vector<CompletionResult> results(2, SampleResult());
  results[0].index = 1;
  results[0].content = "second";
  results[0].stop_type = StopType::kLimit;
  results[0].tokens_predicted = 16;
  results[1].index = 0;
  results[1].content = "first";
  results[1].stop_type = StopType::kWord;
  const json j = OpenAiCompletionJson(results, "coder", "cmpl-abc", 1700000000);
  EXPECT_EQ(j["id"], "cmpl-abc");
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["created"], 1700000000);
  EXPECT_EQ(j["model"], "coder");
  ASSERT_EQ(j["choices"].size(), 2u);
  EXPECT_EQ(j["choices"][0], json({{"text", "first"}, {"index", 0}, {"logprobs", nullptr},
                                   {"finish_reason", "stop"}}));
  EXPECT_EQ(j["choices"][1]["text"], "second");
  EXPECT_EQ(j["choices"][1]["finish_reason"], "length");
  EXPECT_EQ(j["usage"], json({{"prompt_tokens", 412}, {"completion_tokens", 22},
                              {"total_tokens", 434}}));
  EXPECT_EQ(j["timings"]["prompt_n"], 32);

  CompletionResult eos = SampleResult();
  EXPECT_EQ(OpenAiCompletionJson({eos}, "m", "i", 0)["choices"][0]["finish_reason"], "stop");
  eos.stop_type = StopType::kNone;
  EXPECT_EQ(OpenAiCompletionJson({eos}, "m", "i", 0)["choices"][0]["finish_reason"], "length");
}

TEST(ResultJsonTest, OpenAiChunks) {
  PartialResult p{.index = 0, .content = "ret", .tokens = {1}, .tokens_predicted = 1,
                  .tokens_evaluated = 9, .id_slot = 0};
  const json c = OpenAiChunkJson(p, "m", "cmpl-1", 5);
  EXPECT_EQ(c["object"], "text_completion");
  EXPECT_EQ(c["id"], "cmpl-1");
  EXPECT_EQ(c["choices"][0]["text"], "ret");
  EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null());
  EXPECT_TRUE(c["choices"][0].contains("logprobs"));
  EXPECT_FALSE(c.contains("usage"));

  const json f = OpenAiChunkJson(SampleResult(), "m", "cmpl-1", 5);
  EXPECT_EQ(f["choices"][0]["text"], "");
  EXPECT_EQ(f["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(f["usage"]["total_tokens"], 418);
  EXPECT_TRUE(f.contains("timings"));
}

TEST(ResultJsonTest, InvalidUtf8IsReplacedNotThrown) {
  CompletionResult r = SampleResult();
  r.content = "caf\xC3";  // a piece that ends inside "é"
  r.prompt = "\xff\xfe";
  const json j = CompletionResultJson(r, CompletionRequest(), "m");
  EXPECT_THROW((void)j.dump(), json::type_error);  // what DumpJson protects against
  std::string out;
  ASSERT_NO_THROW(out = DumpJson(j));
  EXPECT_THAT(out, HasSubstr("\"content\":\"caf\xEF\xBF\xBD\""));
  EXPECT_TRUE(json::accept(out));
  PartialResult p;
  p.content = "\xE4\xBD";
  EXPECT_THAT(SseEvent(PartialResultJson(p)), HasSubstr("\xEF\xBF\xBD"));
}

TEST(ResultJsonTest, TokenizeResponse) {
  EXPECT_EQ(TokenizeResponseJson({1, 2}, {}), json({{"tokens", {1, 2}}}));
  const json j = TokenizeResponseJson({9, 198, 5}, {"Hello", "\xC3", "\xC3\xA9"});
  EXPECT_EQ(j["tokens"][0], json({{"id", 9}, {"piece", "Hello"}}));
  EXPECT_EQ(j["tokens"][1], json({{"id", 198}, {"piece", {195}}}));
  EXPECT_EQ(j["tokens"][2]["piece"], "\xC3\xA9");
  const json surrogate = TokenizeResponseJson({1}, {"\xED\xA0\x80"});
  EXPECT_TRUE(surrogate["tokens"][0]["piece"].is_array());
  const json overlong = TokenizeResponseJson({1}, {"\xC0\xAF"});
  EXPECT_TRUE(overlong["tokens"][0]["piece"].is_array());
}

// ---- Errors ----------------------------------------------------------------------------------

TEST(ErrorJsonTest, LlamaCppEnvelopeAndTypes) {
  EXPECT_EQ(ErrorJson(400, "bad"),
            json({{"error",
                   {{"code", 400}, {"message", "bad"}, {"type", "invalid_request_error"}}}}));
  const std::pair<int, const char*> types[] = {
      {400, "invalid_request_error"}, {401, "authentication_error"}, {403, "permission_error"},
      {404, "not_found_error"},       {500, "server_error"},         {501, "not_supported_error"},
      {503, "unavailable_error"},     {413, "invalid_request_error"}, {502, "server_error"}};
  for (auto [code, type] : types) {
    const json e = ErrorJson(code, "m");
    EXPECT_EQ(e["error"]["type"], type) << code;
    EXPECT_EQ(e["error"]["code"], code);
  }
}

TEST(ErrorJsonTest, HttpCodes) {
  EXPECT_EQ(HttpCodeFor(absl::InvalidArgumentError("x")), 400);
  EXPECT_EQ(HttpCodeFor(absl::OutOfRangeError("x")), 400);
  EXPECT_EQ(HttpCodeFor(absl::FailedPreconditionError("x")), 400);
  EXPECT_EQ(HttpCodeFor(absl::UnauthenticatedError("x")), 401);
  EXPECT_EQ(HttpCodeFor(absl::PermissionDeniedError("x")), 403);
  EXPECT_EQ(HttpCodeFor(absl::NotFoundError("x")), 404);
  EXPECT_EQ(HttpCodeFor(absl::UnimplementedError("x")), 501);
  EXPECT_EQ(HttpCodeFor(absl::UnavailableError("x")), 503);
  EXPECT_EQ(HttpCodeFor(absl::ResourceExhaustedError("x")), 503);
  EXPECT_EQ(HttpCodeFor(absl::InternalError("x")), 500);
  EXPECT_EQ(HttpCodeFor(absl::DataLossError("x")), 500);
  // A parse error goes out as llama.cpp would send it.
  const absl::Status s = ParseCompletionRequest("{", kLimits).status();
  const json e = ErrorJson(s);
  EXPECT_EQ(e["error"]["code"], 400);
  EXPECT_EQ(e["error"]["message"], std::string(s.message()));
  EXPECT_EQ(ErrorJson(absl::UnimplementedError("Infill is not supported by this model"))["error"],
            json({{"code", 501},
                  {"message", "Infill is not supported by this model"},
                  {"type", "not_supported_error"}}));
  EXPECT_EQ(e["error"]["type"], "invalid_request_error");
}

}  // namespace
}  // namespace tune::inference
