#pragma once

// A storage that keeps nothing and tells nothing (the SDK's defaults): a base for test
// storages that care about one method only.
#include "dray/sdk/storage.hpp"

namespace dray::test {

class NullStorage : public sdk::Storage {
 public:
  using sdk::Storage::appendLog;
  void appendLog(const std::string&, std::span<const std::string_view>) override {}
  void createJob(const sdk::JobRecord&) override {}
  std::optional<sdk::JobRecord> getJob(const std::string&) override { return std::nullopt; }
  std::vector<std::string> listJobs() override { return {}; }
  bool deleteJob(const std::string&) override { return false; }
  void setStatus(const std::string&, const std::string&) override {}
  void setCompletedSteps(const std::string&, std::size_t) override {}
  void setTimes(const std::string&, const std::string&, const std::string&) override {}
  void setFinishedIn(const std::string&, const std::string&) override {}
  void setCallback(const std::string&, const sdk::CallbackRecord&) override {}
  void setStep(const std::string&, std::size_t, const sdk::StepRecord&) override {}
  void setOutput(const std::string&, std::string_view) override {}
  std::optional<std::string> readOutput(const std::string&) override { return std::nullopt; }
  std::vector<std::string> readLog(const std::string&, std::size_t, std::size_t) override { return {}; }
};

}  // namespace dray::test
