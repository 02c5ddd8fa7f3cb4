// Progress of a long stage counted in items (files, tasks), with bytes when they matter:
// thread-safe Add(), printed as core/progress.h's mode says (a bar with rate and time left on a
// terminal, plain lines in logs, JSON events).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace tune::data {

class Progress {
 public:
  // `enabled` false: prints nothing (tests, --quiet). `unit` names what is counted.
  Progress(std::string label, uint64_t total_files, bool enabled, std::string unit = "files");
  ~Progress();
  void Add(uint64_t files, uint64_t bytes);
  // Prints the final line (once).
  void Finish();

 private:
  void Print(bool final);
  std::string label_;
  std::string unit_;
  uint64_t total_files_;
  bool enabled_;
  bool finished_ = false;
  std::atomic<uint64_t> files_{0}, bytes_{0};
  std::chrono::steady_clock::time_point start_, last_print_;
  std::mutex mu_;
};

}  // namespace tune::data
