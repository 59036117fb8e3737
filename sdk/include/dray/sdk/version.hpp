/// Version numbers of the plugin SDK and of the binary interface between host and plugins.
/// This file is the one place they are set: CMake reads the three macros below for the
/// project and package version (as spdlog reads its version.h).
#pragma once

#include <cstdint>

/// The major version is the ABI version: bumped on every change to a declaration under
/// dray/sdk/ (sdk/ABI records the header checksum for each value).
#define DRAY_SDK_VERSION_MAJOR 9
#define DRAY_SDK_VERSION_MINOR 0
#define DRAY_SDK_VERSION_PATCH 0

#define DRAY_SDK_STRINGIFY_(x) #x
#define DRAY_SDK_STRINGIFY(x) DRAY_SDK_STRINGIFY_(x)

namespace dray::sdk {

/// The host refuses a plugin whose descriptor carries another value.
inline constexpr std::uint32_t kAbiVersion = DRAY_SDK_VERSION_MAJOR;

/// Version of the SDK package and of dray itself, "major.minor.patch" (major == kAbiVersion).
inline constexpr const char* kSdkVersion = DRAY_SDK_STRINGIFY(DRAY_SDK_VERSION_MAJOR) "." DRAY_SDK_STRINGIFY(
    DRAY_SDK_VERSION_MINOR) "." DRAY_SDK_STRINGIFY(DRAY_SDK_VERSION_PATCH);

}  // namespace dray::sdk
