#pragma once

#include <stdexcept>

namespace dray::core {

/// The client sent something we cannot accept; the message names the problem (HTTP 4xx).
class ValidationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The request is well-formed but a policy forbids it (an image not in DRAY_ALLOWED_IMAGES);
/// the message names the step and the image (HTTP 403).
class PolicyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace dray::core
