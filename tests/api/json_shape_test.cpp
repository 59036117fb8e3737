#include "api/json_shape.hpp"

#include <chrono>
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "api/http_types.hpp"
#include "tests/support/test_support.hpp"

using dray::api::checkJsonShape;
using dray::api::HttpError;

TEST_CASE("objects with too many keys and too deep nesting are refused", "[api][json]") {
  CHECK_NOTHROW(checkJsonShape(R"({"a":1,"b":[1,2,{"c":"x:y"}],"d":"\":\""})", 3, 4));
  CHECK_THROWS_AS(checkJsonShape(R"({"a":1,"b":2,"c":3,"d":4})", 3, 4), HttpError);
  CHECK_THROWS_AS(checkJsonShape("[[[[[1]]]]]", 3, 4), HttpError);
  CHECK_NOTHROW(checkJsonShape("[[[[1]]]]", 3, 4));
  // Colons inside strings and escaped quotes are not keys.
  CHECK_NOTHROW(checkJsonShape(R"({"k":"a:b:c:d:e","e":"\\","f":"\"::"})", 3, 4));
  CHECK_NOTHROW(checkJsonShape("[1,2,3,[4,5]]", 10, 4, 7));
  CHECK_THROWS_AS(checkJsonShape("[1,2,3,[4,5,6]]", 10, 4, 7), HttpError);
  CHECK_NOTHROW(checkJsonShape(R"(["a,b,c,d,e,f,g,h"])", 10, 4, 2));  // commas in strings are not values
}

TEST_CASE("a 1 MiB body of 100,000 keys is refused by a single linear pass", "[api][json]") {
  std::string body = "{";
  for (int i = 0; body.size() < (1 << 20); ++i) body += "\"k" + std::to_string(i) + "\":1,";
  body.back() = '}';
  auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(checkJsonShape(body), HttpError);
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
  std::printf("json shape: 1 MiB of 100,000 keys refused in %.1f ms\n", took.count());
  // Loose: the pass takes about a millisecond. Off under sanitizers, which make everything slower.
  if (!dray::test::sanitized()) CHECK(took < std::chrono::seconds(1));
}
