// `tune debug shards DIR [--decode] [--limit N]`: print the documents of a dataset's token
// shards, decoded with sentinels shown, for inspection.
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "data/dataset.h"

namespace tune::cli {

void RegisterDebugShardsCommand(CLI::App& debug, absl::Status& result) {
  struct Flags {
    std::string dir;
    bool decode = false;
    int64_t limit = 3;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = debug.add_subcommand(
      "shards", "print the first documents of each token shard of a `tune ingest` dataset");
  cmd->add_option("dir", flags->dir, "dataset directory (with manifest.json)")->required();
  cmd->add_flag("--decode", flags->decode,
                "print text (sentinels as <|fim_prefix|> etc., loss-masked spans in [[...]]) "
                "instead of token ids");
  cmd->add_option("--limit", flags->limit, "documents per shard (default 3)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->callback([flags, &result] {
    result = data::DumpShards(flags->dir, flags->decode, flags->limit, std::cout);
  });
}

}  // namespace tune::cli
