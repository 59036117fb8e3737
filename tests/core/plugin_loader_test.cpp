#include "core/plugin_loader.hpp"

#include <filesystem>
#include <fstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <catch2/catch.hpp>

#include "core/plugin_owned.hpp"
#include "core/plugin_registry.hpp"
#include "dray/sdk/output_channel.hpp"
#include "dray/sdk/runtime.hpp"
#include "dray/sdk/storage.hpp"
#include "dray/sdk/version.hpp"
#include "tests/fakes/string_streams.hpp"
#include "tests/support/test_support.hpp"

namespace {

using namespace dray;
namespace fs = std::filesystem;

// Captures what spdlog prints while alive, to check the loader's messages.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

std::string testPlugin(const std::string& name) { return test::testPluginDir() + "/" + name; }

}  // namespace

TEST_CASE("every built-in plugin loads through the real loader", "[core][loader]") {
  auto plugins = core::PluginLoader::loadDirectories({test::pluginDir()});
  std::vector<std::string> found;
  for (const auto& p : plugins) found.push_back(std::string(core::kindName(p.info.kind)) + "/" + p.info.name);
  std::sort(found.begin(), found.end());
  CHECK(found == std::vector<std::string>{"output/file", "output/stderr", "output/stdout", "runtime/docker",
                                          "storage/memory", "storage/redis"});

  test::RecordingLogger logger;
  core::PluginRegistry registry(std::move(plugins), logger);
  CHECK(registry.create<sdk::OutputChannel>(sdk::PluginKind::kOutput, "stdout")->accepts("stdout"));
  CHECK(registry.create<sdk::OutputChannel>(sdk::PluginKind::kOutput, "file")->accepts("/x"));
  CHECK(registry.create<sdk::Storage>(sdk::PluginKind::kStorage, "memory")->listJobs().empty());
  CHECK(registry.create<sdk::Runtime>(sdk::PluginKind::kRuntime, "docker"));
}

TEST_CASE("a plugin built for another ABI is refused with both versions named", "[core][loader]") {
  LogCapture log;
  CHECK(core::PluginLoader::loadFile(testPlugin("dray-output-abi-mismatch.so")) == nullptr);
  const auto expected = std::to_string(dray::sdk::kAbiVersion);
  const auto built = std::to_string(dray::sdk::kAbiVersion + 1);
  CHECK_THAT(log.text(), Catch::Contains("dray-output-abi-mismatch.so: refused, built for ABI version " + built +
                                         " but this dray expects ABI version " + expected));
}

TEST_CASE("a library without a descriptor and a garbage file are skipped", "[core][loader]") {
  LogCapture log;
  CHECK(core::PluginLoader::loadFile(testPlugin("libnot-a-plugin.so")) == nullptr);
  CHECK_THAT(log.text(), Catch::Contains("not a dray plugin"));

  test::TempDir dir;
  std::ofstream(dir.path() + "/garbage.so") << "this is not an ELF file";
  CHECK(core::PluginLoader::loadFile(dir.path() + "/garbage.so") == nullptr);
  CHECK_THAT(log.text(), Catch::Contains("garbage.so: skipped"));
  CHECK(core::PluginLoader::loadDirectories({dir.path(), "/nonexistent/dir"}).empty());
}

TEST_CASE("a stripped plugin still loads", "[core][loader]") {
  test::TempDir dir;
  const std::string copy = dir.path() + "/dray-output-stdout.so";
  fs::copy_file(test::pluginDir() + "/dray-output-stdout.so", copy);
  int status = 0;
  test::shell("strip --strip-unneeded " + copy, &status);
  REQUIRE(status == 0);
  auto loaded = core::PluginLoader::loadFile(copy);
  REQUIRE(loaded);
  CHECK(loaded->info.name == "stdout");
}

TEST_CASE("a plugin with an unresolved symbol is refused at load, not at first call", "[core][loader]") {
  LogCapture log;
  CHECK(core::PluginLoader::loadFile(testPlugin("dray-output-missing-symbol.so")) == nullptr);
  CHECK_THAT(log.text(), Catch::Contains("dray-output-missing-symbol.so: skipped, cannot load"));
  CHECK_THAT(log.text(), Catch::Contains("undefined symbol: dray_function_that_does_not_exist"));
}

TEST_CASE("a duplicate kind and name is refused, naming both files", "[core][loader]") {
  LogCapture log;
  test::TempDir dir;
  fs::copy_file(testPlugin("dray-output-duplicate-stdout.so"), dir.path() + "/dray-output-duplicate-stdout.so");
  auto plugins = core::PluginLoader::loadDirectories({test::pluginDir(), dir.path()});
  CHECK(std::count_if(plugins.begin(), plugins.end(), [](const auto& p) { return p.info.name == "stdout"; }) == 1);
  CHECK_THAT(log.text(), Catch::Contains("dray-output-duplicate-stdout.so: refused, output plugin 'stdout' is "
                                         "already loaded from " +
                                         test::pluginDir() + "/dray-output-stdout.so"));
}

TEST_CASE("factory errors and unknown options are reported, not ignored", "[core][loader]") {
  test::RecordingLogger logger;
  auto failing = core::PluginLoader::loadFile(testPlugin("dray-storage-failing.so"));
  REQUIRE(failing);
  CHECK(failing->info.options.at(0).name == "mode");
  std::vector<core::LoadedPlugin> plugins;
  plugins.push_back(std::move(*failing));
  core::PluginRegistry registry(std::move(plugins), logger);

  ::setenv("DRAY_STORAGE_FAILING_MODE", "gentle", 1);
  CHECK_THROWS_WITH(registry.create<sdk::Storage>(sdk::PluginKind::kStorage, "failing"),
                    Catch::Contains("failed to start: cannot start in mode gentle"));
  ::setenv("DRAY_STORAGE_FAILING_COLOUR", "red", 1);
  CHECK_THROWS_WITH(registry.create<sdk::Storage>(sdk::PluginKind::kStorage, "failing"),
                    Catch::Contains("DRAY_STORAGE_FAILING_COLOUR names no option"));
  ::unsetenv("DRAY_STORAGE_FAILING_MODE");
  ::unsetenv("DRAY_STORAGE_FAILING_COLOUR");
  CHECK_THROWS_WITH(registry.create<sdk::Storage>(sdk::PluginKind::kStorage, "redis"),
                    Catch::Contains("no storage plugin named 'redis' is loaded"));
}

TEST_CASE("a plugin object keeps its library loaded after the registry is gone", "[core][loader]") {
  std::shared_ptr<sdk::OutputChannel> channel;
  {
    test::RecordingLogger logger;
    core::PluginRegistry registry(core::PluginLoader::loadDirectories({test::pluginDir()}), logger);
    channel = registry.create<sdk::OutputChannel>(sdk::PluginKind::kOutput, "stdout");
  }
  // Calling into the plugin after the registry died must not crash.
  test::StringSink next;
  test::RecordingLogger job_log;
  auto capture = channel->open(sdk::StepSpec{}, next, job_log);
  capture->onStdout("still here");
  CHECK(next.data == "still here");
}

TEST_CASE("an object made by plugin code keeps the library loaded after its maker is gone", "[core][loader]") {
  test::StringSink next;
  test::RecordingLogger job_log;
  core::PluginOwned<sdk::Capture> capture;
  {
    test::RecordingLogger logger;
    core::PluginRegistry registry(core::PluginLoader::loadDirectories({test::pluginDir()}), logger);
    auto channel = registry.create<sdk::OutputChannel>(sdk::PluginKind::kOutput, "stdout");
    capture = {channel->open(sdk::StepSpec{}, next, job_log), channel};
  }
  // Registry and every other reference to the channel are gone: only the capture holds it.
  capture->onStdout("from a capture whose maker is gone");
  CHECK(next.data == "from a capture whose maker is gone");
  capture.reset();  // destroyed first, then the library may go
  CHECK_FALSE(capture);
}
