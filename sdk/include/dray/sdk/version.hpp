/// Version numbers of the plugin SDK and of the binary interface between host and plugins.
#pragma once

#include <cstdint>

namespace dray::sdk {

/// Bumped on every change to any header under dray/sdk/. The host refuses a plugin whose
/// descriptor carries another value. `sdk/ABI` records the header checksum for this value.
inline constexpr std::uint32_t kAbiVersion = 5;

/// Version of the SDK package (major == kAbiVersion).
inline constexpr const char* kSdkVersion = "5.0.0";

}  // namespace dray::sdk
