// What the benchmark programs share: wall time, "--name value" options, and the random weights
// the quantization benchmarks measure.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <variant>

namespace tune::bench {

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One "--name value" option and the variable it sets.
struct Flag {
  const char* name;
  std::variant<int*, std::string*, std::filesystem::path*> target;
};

// Reads "--name value" pairs into `flags`; on anything else prints the usage and returns false.
inline bool ParseFlags(int argc, char** argv, std::initializer_list<Flag> flags) {
  for (int i = 1; i < argc; i += 2) {
    const Flag* flag = nullptr;
    for (const Flag& f : flags) {
      if (argv[i] == std::string(f.name)) flag = &f;
    }
    if (flag == nullptr || i + 1 >= argc) {
      std::string usage = std::string("usage: ") + argv[0];
      for (const Flag& f : flags) usage += std::string(" [") + f.name + " VALUE]";
      std::fprintf(stderr, "%s\n", usage.c_str());
      return false;
    }
    const char* value = argv[i + 1];
    std::visit(
        [value](auto* target) {
          if constexpr (std::is_same_v<decltype(target), int*>) {
            *target = std::atoi(value);
          } else {
            *target = value;
          }
        },
        flag->target);
  }
  return true;
}

// N(0, 0.02): the spread of a trained LLM's projection weights.
inline void FillNormalWeights(std::span<float> weights, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (float& x : weights) x = normal(rng);
}

}  // namespace tune::bench
