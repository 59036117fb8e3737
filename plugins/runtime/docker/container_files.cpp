#include "container_files.hpp"

#include <Poco/URI.h>

#include "dray/sdk/errors.hpp"
#include "tar_extractor.hpp"

namespace dray::plugins::runtime::docker {

bool DockerContainerFiles::copyFileOut(const std::string& path, sdk::ByteSink& sink) {
  std::string encoded;
  Poco::URI::encode(path, "!#$&'()*+,:;=?@[]\"{}%", encoded);
  bool found = false;
  DockerResponse response = client_.streamed("GET", "/containers/" + container_id_ + "/archive?path=" + encoded,
                                             [&](std::istream& tar) { found = extractFirstRegularFile(tar, sink); });
  if (response.status == 404) return false;
  if (response.status / 100 != 2) {
    throw sdk::EngineError("cannot copy " + path + " out of container " + container_id_.substr(0, 12) + ": " +
                           engineMessage(response.body));
  }
  return found;
}

}  // namespace dray::plugins::runtime::docker
