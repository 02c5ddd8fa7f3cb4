#include "tests/data/generated_repos.h"

#include <random>
#include <vector>

#include "absl/strings/str_format.h"

namespace tune::testing {
namespace {

std::string Pick(std::mt19937_64& rng, const std::vector<std::string>& words) {
  return words[std::uniform_int_distribution<size_t>(0, words.size() - 1)(rng)];
}

}  // namespace

std::map<std::string, std::string> ConventionsRepo(int files, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> verbs = {"load", "save", "sync", "scan", "push", "pull", "drop", "mark"};
  const std::vector<std::string> nouns = {"order", "user", "batch", "quota", "ledger", "token", "badge", "queue"};
  std::map<std::string, std::string> repo;
  for (int f = 0; f < files; ++f) {
    const std::string module = Pick(rng, nouns) + "_" + std::to_string(f);
    std::string text = absl::StrFormat(
        "# zq service module %s\nfrom zq_runtime import zq_guard, zq_emit, ZqContext\n\n"
        "ZQ_MODULE = \"%s\"\n",
        module, module);
    for (int h = 0; h < 4; ++h) {
      const std::string verb = Pick(rng, verbs), noun = Pick(rng, nouns);
      absl::StrAppendFormat(&text,
                            "\n\n@zq_guard(retries=3, module=ZQ_MODULE)\n"
                            "def %s_%s(ctx: ZqContext, payload):\n"
                            "    zq_emit(ctx, \"enter\", module=ZQ_MODULE)\n"
                            "    result = ctx.store.%s(\"%s\", payload)\n"
                            "    zq_emit(ctx, \"leave\", module=ZQ_MODULE)\n"
                            "    return result\n",
                            verb, noun, verb, noun);
    }
    repo[absl::StrFormat("svc/%s.py", module)] = text;
  }
  return repo;
}

std::map<std::string, std::string> HelpersRepo(int clients, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> syllables = {"vex", "dri", "qua", "zon", "plim", "tor", "gla", "mub",
                                              "sni", "ferr", "oza", "kel", "brun", "yip", "warp", "hul"};
  const std::vector<std::string> nouns = {"ledger", "quota", "badge", "parcel", "tariff", "ticket", "voucher", "route"};
  const std::vector<std::string> verbs = {"total", "scan", "merge", "split", "rank", "clamp"};
  const std::vector<std::string> things = {"rows", "items", "limit", "rate", "window", "codes"};
  struct Helper {
    std::string module, name, first, second;
  };
  std::vector<Helper> helpers;
  std::map<std::string, std::string> repo;
  for (const std::string& noun : nouns) {
    const std::string module = noun + "_util";
    std::string text = absl::StrFormat("\"\"\"Helpers for %ss.\"\"\"\n", noun);
    for (int h = 0; h < 3; ++h) {
      const std::string word = Pick(rng, syllables) + Pick(rng, syllables);
      Helper helper{module, absl::StrFormat("%s_%s_%s", word, noun, Pick(rng, verbs)),
                    absl::StrFormat("%s_%s", noun, Pick(rng, things)), absl::StrFormat("%s_%s", word, Pick(rng, things))};
      absl::StrAppendFormat(&text,
                            "\n\ndef %s(%s, %s):\n"
                            "    acc = []\n"
                            "    for item in %s:\n"
                            "        acc.append(item * %s)\n"
                            "    return acc\n",
                            helper.name, helper.first, helper.second, helper.first, helper.second);
      helpers.push_back(helper);
    }
    repo["lib/" + module + ".py"] = text;
  }
  for (int c = 0; c < clients; ++c) {
    std::vector<Helper> used;
    for (int h = 0; h < 3; ++h) used.push_back(helpers[std::uniform_int_distribution<size_t>(0, helpers.size() - 1)(rng)]);
    std::string imports, body;
    for (size_t h = 0; h < used.size(); ++h) {
      const Helper& u = used[h];
      if (imports.find(" " + u.module + "\n") == std::string::npos) imports += "from lib import " + u.module + "\n";
      absl::StrAppendFormat(&body,
                            "\n\ndef handle_%d_%d(%s, %s):\n"
                            "    result = %s.%s(%s, %s)\n"
                            "    return {\"status\": \"ok\", \"value\": result}\n",
                            c, h, u.first, u.second, u.module, u.name, u.first, u.second);
    }
    repo[absl::StrFormat("app/handler_%02d.py", c)] = imports + body;
  }
  return repo;
}

std::map<std::string, std::string> RandomRepo(int files, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> letter('a', 'z'), length(2, 9), count(2, 7), lines(20, 30);
  const std::vector<std::string> glue = {" = ", "(", ", ", ") ", " + ", ".", " "};
  std::map<std::string, std::string> repo;
  for (int f = 0; f < files; ++f) {
    std::string text;
    for (int l = lines(rng); l > 0; --l) {
      text += std::string(static_cast<size_t>(4 * (rng() % 3)), ' ');
      for (int w = count(rng); w > 0; --w) {
        for (int c = length(rng); c > 0; --c) text += static_cast<char>(letter(rng));
        if (w > 1) text += Pick(rng, glue);
      }
      text += "\n";
    }
    repo[absl::StrFormat("src/m%02d.py", f)] = text;
  }
  return repo;
}

}  // namespace tune::testing
