#pragma once

#include <cstddef>
#include <string_view>

namespace dray::api {

inline constexpr std::size_t kMaxJsonKeysPerObject = 1000;
inline constexpr std::size_t kMaxJsonDepth = 64;

/// A linear pass over a JSON body before the real parser sees it: refuses (HttpError 400)
/// an object with more than `max_keys` keys or nesting deeper than `max_depth`. Poco's
/// parser keeps key order by searching the keys already seen, so a body of 100,000 keys
/// would cost minutes of a core; this pass costs one read of the bytes. Syntax errors are
/// left to the parser.
void checkJsonShape(std::string_view body, std::size_t max_keys = kMaxJsonKeysPerObject,
                    std::size_t max_depth = kMaxJsonDepth);

}  // namespace dray::api
