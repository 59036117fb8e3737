#include "plugins/output/file/file_channel.hpp"

#include <string>

namespace dray::plugins::output::file {
namespace {

constexpr std::size_t kMaxPath = 4096;

class FileCapture final : public sdk::Capture {
 public:
  FileCapture(std::string path, sdk::ByteSink& next, sdk::Logger& job_log)
      : path_(std::move(path)), next_(next), job_log_(job_log) {}

  void onStdout(std::string_view) override {}
  void onStderr(std::string_view) override {}

  void afterExit(sdk::ContainerFiles& files) override {
    if (!files.copyFileOut(path_, next_)) {
      job_log_.warn("output file " + path_ + " does not exist in the container; the next step gets empty input");
    }
  }

 private:
  std::string path_;
  sdk::ByteSink& next_;
  sdk::Logger& job_log_;
};

}  // namespace

bool isPlainAbsolutePath(std::string_view path) {
  if (path.size() < 2 || path.size() > kMaxPath || path.front() != '/' || path.back() == '/') return false;
  if (path.find('\0') != std::string_view::npos) return false;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    start = end + 1;
  }
  return true;
}

bool FileChannel::accepts(std::string_view output) const { return isPlainAbsolutePath(output); }

sdk::CapturePtr FileChannel::open(const sdk::StepSpec& step, sdk::ByteSink& next, sdk::Logger& job_log) {
  return std::make_unique<FileCapture>(step.output, next, job_log);
}

}  // namespace dray::plugins::output::file
