#include "core/spool.hpp"

#include <filesystem>

#include <catch2/catch.hpp>

#include "tests/fakes/string_streams.hpp"

using dray::core::Spool;

TEST_CASE("a small spool stays in memory and reads back exactly", "[core][spool]") {
  Spool spool(1024);
  spool.write("hello ");
  spool.write(std::string("\0world\n", 7));
  CHECK_FALSE(spool.spilled());
  CHECK(spool.size() == 13);
  auto reader = spool.reader();
  CHECK(dray::test::drain(*reader) == std::string("hello \0world\n", 13));
}

TEST_CASE("a spool beyond its memory limit spills to a temp file that is removed", "[core][spool]") {
  std::string expected;
  std::string path;
  {
    Spool spool(1000);
    for (int i = 0; i < 500; ++i) {
      std::string chunk = "line " + std::to_string(i) + "\n";
      expected += chunk;
      spool.write(chunk);
    }
    CHECK(spool.spilled());
    auto reader = spool.reader();
    CHECK(dray::test::drain(*reader) == expected);
  }
}

TEST_CASE("an empty spool reads as end of data", "[core][spool]") {
  Spool spool(0);
  auto reader = spool.reader();
  char buffer[8];
  CHECK(reader->read(buffer, sizeof buffer) == 0);
}
